import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitShellWords } from '../../src/parse';

test('splits on blanks, ignoring repeated and surrounding blanks', () => {
  assert.deepEqual(splitShellWords('  /bin/sh  -c\techo \n'), ['/bin/sh', '-c', 'echo']);
});

test('single quotes keep everything literally, backslashes included', () => {
  assert.deepEqual(splitShellWords(`echo 'a  b\\n $X'`), ['echo', 'a  b\\n $X']);
});

test('double quotes group words and let a backslash escape " \\ $ and `', () => {
  assert.deepEqual(splitShellWords(`"a \\"b\\" \\$c \\\\ \\x"`), ['a "b" $c \\ \\x']);
});

test('an unquoted backslash escapes the next character', () => {
  assert.deepEqual(splitShellWords('a\\ b c\\"d'), ['a b', 'c"d']);
});

test('backslash-newline joins lines', () => {
  assert.deepEqual(splitShellWords('a \\\nb'), ['a', 'b']);
});

test('quoted parts join the word around them', () => {
  assert.deepEqual(splitShellWords(`--opt="x y"'z'`), ['--opt=x yz']);
});

test('empty quotes give an empty word', () => {
  assert.deepEqual(splitShellWords(`a '' ""`), ['a', '', '']);
});

test('no expansion: variables, globs, comments and operators stay as written', () => {
  assert.deepEqual(splitShellWords('echo $HOME *.c # x|y'), ['echo', '$HOME', '*.c', '#', 'x|y']);
});

test('an empty string has no words', () => {
  assert.deepEqual(splitShellWords(''), []);
});

test('rejects an unterminated quote', () => {
  assert.throws(() => splitShellWords(`echo "abc`), /unterminated double quote/);
  assert.throws(() => splitShellWords(`echo 'abc`), /unterminated single quote/);
});

test('rejects a trailing backslash', () => {
  assert.throws(() => splitShellWords('echo \\'), /trailing backslash/);
});
