"""A `node --test` reporter that writes one JSON line per finished test.

Node 18's built-in reporters (tap, spec, dot) omit the file of passing tests, so test ids
would change with the outcome; this reporter keeps file, line and the parents' names.
It is streamed into the container next to the agent (see pool.py), as `REPORTER_PATH`.
"""

SOURCE = r"""
const parents = new Map();

function describe(error) {
  const cause = error && error.cause ? error.cause : error;
  if (!cause) return { message: '', stack: '' };
  return { message: String(cause.message ?? cause), stack: String(cause.stack ?? '') };
}

export default async function* fixloopReporter(source) {
  for await (const event of source) {
    const data = event.data || {};
    if (event.type === 'test:start') {
      const names = parents.get(data.file) || [];
      names.length = data.nesting;
      names.push(data.name);
      parents.set(data.file, names);
      continue;
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const names = (parents.get(data.file) || []).slice(0, data.nesting);
    const details = data.details || {};
    const failed = event.type === 'test:fail';
    yield JSON.stringify({
      file: data.file || '',
      line: data.line || 0,
      names: [...names, data.name],
      outcome: data.skip || data.todo ? 'skipped' : failed ? 'failed' : 'passed',
      duration_ms: details.duration_ms || 0,
      ...(failed ? describe(details.error) : {}),
    }) + '\n';
  }
}
"""
