// Generates src/generated from api.proto with proto-loader-gen-types, using the runtime loader's
// options. With --check, generates into a temporary directory and fails if src/generated differs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loaderOptionsAsFlags } from '../src/loader-options.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const generatedDir = join(packageDir, 'src', 'generated');
const genTypesBin = createRequire(import.meta.url).resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js');

function generate(outDir: string): void {
  execFileSync(process.execPath, [
    genTypesBin,
    ...loaderOptionsAsFlags(),
    '--grpcLib=@grpc/grpc-js',
    '--importFileExtension=.ts',
    `--outDir=${outDir}`,
    'api.proto',
  ], { cwd: packageDir, stdio: ['ignore', 'ignore', 'inherit'] });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(join(dir, name)).isFile())
    .sort();
}

function differences(expectedDir: string, actualDir: string): string[] {
  const expected = listFiles(expectedDir);
  const actual = safeList(actualDir);
  const problems: string[] = [];
  for (const name of expected) {
    if (!actual.includes(name)) problems.push(`missing ${name}`);
    else if (readFileSync(join(expectedDir, name), 'utf8') !== readFileSync(join(actualDir, name), 'utf8')) problems.push(`outdated ${name}`);
  }
  for (const name of actual) if (!expected.includes(name)) problems.push(`unexpected ${name}`);
  return problems;
}

function safeList(dir: string): string[] {
  try { return listFiles(dir); } catch { return []; }
}

if (process.argv.includes('--check')) {
  const scratch = mkdtempSync(join(tmpdir(), 'dice-proto-'));
  try {
    generate(scratch);
    const problems = differences(scratch, generatedDir);
    if (problems.length > 0) {
      console.error(`Generated types in ${relative(process.cwd(), generatedDir)} are stale (${problems.join(', ')}); run: make generate`);
      process.exit(1);
    }
    console.log('generated types are up to date');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} else {
  rmSync(generatedDir, { recursive: true, force: true });
  generate(generatedDir);
  console.log(`wrote ${relative(process.cwd(), generatedDir)}`);
}
