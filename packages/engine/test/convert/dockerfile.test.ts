// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are stacker placeholders
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDockerfile } from '../../src/convert/dockerfile';
import { replaceArgRefs, shellQuote, splitWords } from '../../src/convert/words';
import { StackerError } from '../../src/errors';

describe('parseDockerfile', () => {
  test('joins continuation lines and drops comment and empty lines inside them', () => {
    const { instructions } = parseDockerfile(
      ['FROM alpine', 'RUN apk add a \\', '    # a comment', '', '    b', 'CMD x'].join('\n'),
    );
    assert.deepEqual(
      instructions.map((i) => [i.keyword, i.args, i.line, i.endLine]),
      [
        ['FROM', 'alpine', 1, 1],
        ['RUN', 'apk add a     b', 2, 5],
        ['CMD', 'x', 6, 6],
      ],
    );
  });

  test('keywords are case-insensitive and comments between instructions are skipped', () => {
    const { instructions } = parseDockerfile('# hello\nfrom alpine\n  # indented\nrun true\n');
    assert.deepEqual(
      instructions.map((i) => i.keyword),
      ['FROM', 'RUN'],
    );
  });

  test('an escape directive changes the continuation character', () => {
    const df = parseDockerfile('# escape=`\nFROM windows\nRUN dir c:\\ `\n  /s\n');
    assert.equal(df.escapeChar, '`');
    assert.equal(df.instructions[1]?.args, 'dir c:\\   /s');
  });

  test('a directive after the first comment is an ordinary comment', () => {
    const df = parseDockerfile('# just a comment\n# escape=`\nFROM a\n');
    assert.equal(df.escapeChar, '\\');
  });

  test('leading flags are split off and the JSON form is recognised', () => {
    const [copy, cmd, shell] = parseDockerfile(
      'COPY --from=build --chown=1:2 ["a b", "/c"]\nCMD ["run", "--x"]\nCMD run --x\n',
    ).instructions;
    assert.deepEqual(copy?.flags, ['--from=build', '--chown=1:2']);
    assert.deepEqual(copy?.json, ['a b', '/c']);
    assert.deepEqual(cmd?.json, ['run', '--x']);
    assert.equal(shell?.json, undefined);
    assert.equal(shell?.args, 'run --x');
  });

  test('malformed JSON falls back to the shell form, as in Docker', () => {
    const [cmd] = parseDockerfile('CMD [not json]\n').instructions;
    assert.equal(cmd?.json, undefined);
    assert.equal(cmd?.args, '[not json]');
  });

  test('heredoc bodies are consumed, kept, and counted in the line numbers', () => {
    const { instructions } = parseDockerfile(
      [
        'FROM a',
        'RUN <<EOT bash',
        'echo $HOME',
        'EOT',
        'RUN <<-"X"',
        '\techo tab',
        '\tX',
        'USER 1',
      ].join('\n'),
    );
    assert.deepEqual(
      instructions.map((i) => [i.keyword, i.line, i.endLine]),
      [
        ['FROM', 1, 1],
        ['RUN', 2, 4],
        ['RUN', 5, 7],
        ['USER', 8, 8],
      ],
    );
    assert.deepEqual(instructions[1]?.heredocs, [{ name: 'EOT', body: 'echo $HOME' }]);
    assert.deepEqual(instructions[2]?.heredocs, [{ name: 'X', body: 'echo tab' }]);
  });

  test('a shift in arithmetic is not a heredoc', () => {
    const { instructions } = parseDockerfile('RUN echo $((1<<2))\nUSER x\n');
    assert.equal(instructions.length, 2);
    assert.deepEqual(instructions[0]?.heredocs, []);
  });

  test('an unterminated heredoc is an error at its instruction', () => {
    assert.throws(
      () => parseDockerfile('FROM a\nRUN <<EOF\necho\n', '/x/Dockerfile'),
      (err: unknown) =>
        err instanceof StackerError &&
        /heredoc <<EOF is not terminated/.test(err.message) &&
        err.where.file === '/x/Dockerfile' &&
        err.where.line === 2,
    );
  });

  test('an instruction without arguments is an error at its line', () => {
    assert.throws(
      () => parseDockerfile('FROM a\n\nWORKDIR\n'),
      (err: unknown) => err instanceof StackerError && err.where.line === 3,
    );
  });
});

describe('Dockerfile words', () => {
  test('quotes group words; values drop them, raw text keeps them', () => {
    assert.deepEqual(splitWords(`a="x y" b='$c' d=e\\ f`), [
      { raw: 'a="x y"', value: 'a=x y' },
      { raw: "b='$c'", value: 'b=$c' },
      { raw: 'd=e\\ f', value: 'd=e f' },
    ]);
  });

  test('inside double quotes the escape character only escapes " $ ` and itself', () => {
    assert.deepEqual(
      splitWords('"a\\"b\\n"').map((w) => w.value),
      ['a"b\\n'],
    );
  });

  test('shellQuote leaves plain words alone and single-quotes the rest', () => {
    assert.equal(shellQuote('/usr/bin'), '/usr/bin');
    assert.equal(shellQuote("it's"), `'it'"'"'s'`);
  });

  test('argument references become placeholders; longer names and $(cmd) are left alone', () => {
    const args = new Map([
      ['V', '${{V}}'],
      ['W', '${{W:}}'],
    ]);
    assert.equal(replaceArgRefs('$V ${V} $VV $(V) ${W}', args), '${{V}} ${{V}} $VV $(V) ${{W:}}');
  });
});
