// Every repository path and `make` target that README.md and docs/ name exists, and every relative
// link leads somewhere: a renamed file or target cannot leave a stale page behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** Files git tracks, and the folders they are in. */
const tracked = execFileSync('git', ['ls-files'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
const known = new Set([...tracked, ...tracked.flatMap((file) => file.split('/').slice(0, -1).map((_, index, parts) => `${parts.slice(0, index + 1).join('/')}/`))]);

const fileLike = /\.(ts|mjs|js|sh|ya?ml|conf|md|tsv|py|proto|eta|json|go|txt)$/;
/** What a page names that is not a file of this repository: made at run time, or a container's path. */
const notRepository = /^(\/|~|\.\/|certs\/.|\.build\/|\.tools\/|\.env|e2e\/\.artifacts\/|dist\/|node_modules\/)|[<>*${}\s:]|\.\.data|^\.[a-z]+$/;
/** The PKI's own files, which make certs writes into certs/ (git-ignored). */
const pkiFile = /\.(pem|crt|key|srl|crl)$|^index\.txt$|^(client-)?ca\/$/;
/** An API group (`gateway.networking.k8s.io/v1`) or an annotation's domain, not a folder. */
const apiGroup = /^[a-z0-9-]+(\.[a-z0-9-]+){2,}\//;
/** A gRPC method path (`api.DiceService/RollDie`, `Health/Watch`), not a file. */
const methodPath = /(^|\.)[A-Z][A-Za-z0-9]*\/[A-Z*]/;

/** The path-like names a page writes in backticks, and the targets of its relative links. */
export function referencedPaths(text: string): string[] {
  const quoted = [...text.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] ?? '');
  return quoted.filter((token) => (fileLike.test(token) || /^[A-Za-z_.][\w.-]*\/([\w.-]+\/?)*$/.test(token)) && !notRepository.test(token) && !pkiFile.test(token) && !methodPath.test(token) && !apiGroup.test(token));
}

/** The targets a page runs: `make x` in code spans and fenced blocks (prose may say "make sure"). */
export function referencedTargets(text: string): string[] {
  const code = [...text.matchAll(/```[^\n]*\n([\s\S]*?)```|`([^`\n]+)`/g)].map((match) => match[1] ?? match[2] ?? '').join('\n');
  return [...code.matchAll(/\bmake ([a-z][a-z0-9-]*)/g)].map((match) => match[1] ?? '');
}

function exists(page: string, path: string): boolean {
  const plain = path.replace(/\/$/, '');
  if (known.has(path) || known.has(`${plain}/`) || known.has(plain)) return true;
  // A name given under the folder the text is about (`src/contract.ts` in proto's section, `api.proto`).
  if (tracked.some((file) => file.endsWith(`/${plain}`) || file.includes(`/${plain}/`))) return true;
  return existsSync(normalize(join(repoRoot, dirname(page), plain)));
}

const makefile = readFileSync(join(repoRoot, 'Makefile'), 'utf8');
const targets = new Set([...makefile.matchAll(/^([a-z][a-z0-9-]*):/gm)].map((match) => match[1]));

describe('README.md and docs/', () => {
  it('are all linked from the README', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const page of pages.filter((name) => name !== 'README.md')) assert.ok(readme.includes(`](${page})`), `README.md links ${page}`);
  });

  for (const page of pages) {
    const text = readFileSync(join(repoRoot, page), 'utf8');

    it(`${page}: every path it names exists`, () => {
      const missing = [...new Set(referencedPaths(text))].filter((path) => !exists(page, path));
      assert.deepEqual(missing, []);
    });

    it(`${page}: every relative link leads to a file`, () => {
      const links = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((match) => match[1] ?? '').filter((link) => !/^[a-z]+:/.test(link));
      const broken = links.filter((link) => !existsSync(normalize(join(repoRoot, dirname(page), link))));
      assert.deepEqual(broken, []);
    });

    it(`${page}: every make target it names is in the Makefile`, () => {
      const missing = [...new Set(referencedTargets(text))].filter((target) => !targets.has(target));
      assert.deepEqual(missing, []);
    });
  }
});

describe('the reference finders', () => {
  it('find paths, links and targets, and pass over what is not a repository path', () => {
    assert.deepEqual(referencedPaths('`nginx/edge-settings.tsv`, `src/contract.ts`, `deploy/`, `/etc/nginx/certs`, `x-ssl-client-verify`, `server:50051`, `api.DiceService/RollDie`, `certs/ca.pem`'), ['nginx/edge-settings.tsv', 'src/contract.ts', 'deploy/']);
    assert.deepEqual(referencedTargets('run `make up`, make sure of it; `make scale REPLICAS=3`\n```sh\nmake test\n```'), ['up', 'scale', 'test']);
    assert.equal(exists('README.md', 'webapp/src/certificate-reload.ts'), false, 'a file that is gone is found missing');
    assert.equal(exists('docs/testing.md', 'e2e/streams.test.ts'), true);
  });
});
