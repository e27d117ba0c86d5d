class Playlist:
    def __init__(self, name):
        self.name = name
        self.tracks = []

    def add_album(self, album):
        """Queue every track of an album (a dict with a 'tracks' list)."""
        self.tracks.append(album["tracks"])

    def duration(self):
        return sum(track["seconds"] for track in self.tracks)
