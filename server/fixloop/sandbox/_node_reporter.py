"""A `node --test` reporter that writes one JSON line per finished test.

Node 18's built-in reporters (tap, spec, dot) omit the file of passing tests, so test ids
would change with the outcome; this reporter keeps file, line and the parents' names.
A file that fails outside any test (a syntax error, a throw at load time) fails as a test
named after the file whose error says only "test failed": the file's stderr says what and
where, so it becomes that failure's message and stack (the names are left empty).
It is streamed into the container next to the agent (see pool.py), as `REPORTER_PATH`.
"""

SOURCE = r"""
const parents = new Map();
const stderr = new Map(); // file -> its last lines of stderr
const STDERR_CAP = 16384;
const ERROR_LINE = /^[A-Z]\w*(?: \[[\w-]+\])?: .*$/gm; // SyntaxError: …, Error [ERR_X]: …

function describe(error) {
  const cause = error && error.cause ? error.cause : error;
  if (!cause) return { message: '', stack: '' };
  return { message: String(cause.message ?? cause), stack: String(cause.stack ?? '') };
}

function loadFailure(file) {
  const text = stderr.get(file) || '';
  const lines = text.match(ERROR_LINE); // the last: what ended the process
  return lines ? { message: lines[lines.length - 1], stack: text } : null;
}

export default async function* fixloopReporter(source) {
  for await (const event of source) {
    const data = event.data || {};
    if (event.type === 'test:stderr') {
      const text = (stderr.get(data.file) || '') + String(data.message ?? '');
      stderr.set(data.file, text.slice(-STDERR_CAP));
      continue;
    }
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
    const whole = failed && data.nesting === 0 && data.file && data.name === data.file;
    const loaded = whole ? loadFailure(data.file) : null;
    yield JSON.stringify({
      file: data.file || '',
      line: data.line || 0,
      names: whole ? [] : [...names, data.name],
      outcome: data.skip || data.todo ? 'skipped' : failed ? 'failed' : 'passed',
      duration_ms: details.duration_ms || 0,
      ...(failed ? loaded || describe(details.error) : {}),
    }) + '\n';
  }
}
"""
