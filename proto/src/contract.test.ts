// One definition of the wire contract: each service name and metadata key is spelled, as a string,
// in one non-test TypeScript file of the project only (contract.ts); everything else imports it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { metadataKeys, methodPaths, serviceNames, statusName } from './contract.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist', 'generated', '.git', '.tools', 'results'].includes(entry.name) ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !path.includes('/testing/') ? [path] : [];
  });
}

describe('the wire contract module', () => {
  const files = sourceFiles(repoRoot).map((path) => ({ path: relative(repoRoot, path), text: readFileSync(path, 'utf8') }));

  for (const name of [...Object.values(metadataKeys), ...Object.values(serviceNames), ...Object.values(methodPaths)]) {
    it(`spells "${name}" in at most one source file, proto/src/contract.ts`, () => {
      const spelled = files.filter(({ text }) => text.includes(`'${name}'`) || text.includes(`"${name}"`) || text.includes(`\`${name}\``)).map(({ path }) => path);
      assert.ok(spelled.every((path) => path === 'proto/src/contract.ts'), `also spelled in ${spelled.join(', ')}`);
    });
  }

  it('names statuses by code, and unknown codes by number', () => {
    assert.equal(statusName(0), 'OK');
    assert.equal(statusName(14), 'UNAVAILABLE');
    assert.equal(statusName(99), '99');
  });

  it('builds method paths from the service names', () => {
    assert.equal(methodPaths.rollDie, '/api.DiceService/RollDie');
  });
});
