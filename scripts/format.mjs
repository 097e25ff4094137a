// Formats the sources (Prettier for TS/JS/JSON, clang-format for C++), or with --check fails
// when a file is not formatted (CI runs the check). Generated files are left as the generator
// writes them (.prettierignore; opcodes.h below): test/opcodes.test.ts compares them with it.
import { execFileSync } from 'node:child_process';

const check = process.argv.includes('--check');
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
const cpp = execFileSync('git', ['ls-files', 'native/*.h', 'native/*.cpp'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.endsWith('opcodes.h') && !f.includes('.gen.'));
try {
  run('npx', ['prettier', check ? '--check' : '--write', '--log-level', 'warn', '.']);
  run('npx', ['clang-format', ...(check ? ['--dry-run', '-Werror'] : ['-i']), ...cpp]);
} catch {
  console.error(check ? 'format: run `npm run format` to fix the files above' : 'format failed');
  process.exit(1);
}
