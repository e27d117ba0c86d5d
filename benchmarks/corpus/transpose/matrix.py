def transpose(matrix):
    """Rows become columns; matrix is a list of equally long rows."""
    if not matrix:
        return []
    rows, cols = len(matrix), len(matrix[0])
    return [[matrix[j][i] for i in range(rows)] for j in range(cols)]


def is_symmetric(matrix):
    return matrix == transpose(matrix)
