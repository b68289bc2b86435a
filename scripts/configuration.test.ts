// docker-compose.yml and the manifests set only settings the services declare, only where they
// differ from the default, each with a comment saying why; compose passes a variable through or
// fixes it, and docs/configuration.md (generated) says which.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { composeInterpolations, composeLevelMeanings, composeVariables, manifestVariables, settingProblems, settingsByService } from './configuration.ts';

const scratch = mkdtempSync(join(tmpdir(), 'dice-configuration-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('the settings tables', () => {
  it('name each variable once per service, with a meaning and what it allows', () => {
    for (const [service, settings] of Object.entries(settingsByService())) {
      const names = settings.map((setting) => setting.name);
      assert.deepEqual(names, [...new Set(names)], `${service}: a variable declared twice`);
      for (const setting of settings) {
        assert.match(setting.meaning, /^\S.*[.)]$/, `${service} ${setting.name}: one sentence of meaning`);
        assert.notEqual(setting.allowed, '', `${service} ${setting.name}: what it allows`);
      }
    }
  });
});

describe('docker-compose.yml', () => {
  it('sets known settings only where they differ from the default, each passed through or fixed with a reason', () => {
    const variables = composeVariables();
    assert.ok(variables.length > 20, 'the environment of the three services is read');
    assert.deepEqual(settingProblems(variables), []);
  });

  it('documents every variable it interpolates', () => {
    const passed = new Set(composeVariables().flatMap((variable) => (variable.mode === 'passed' ? [variable.hostName] : [])));
    const undocumented = [...composeInterpolations().keys()].filter((name) => !passed.has(name) && !(name in composeLevelMeanings));
    assert.deepEqual(undocumented, []);
  });

  it('the overlays of the e2e suite and the bench set known settings only', () => {
    for (const file of ['e2e/compose.kubelet.yml', 'bench/compose.bench.yml', 'bench/compose.bench-bare.yml', 'bench/compose.bench-go.yml']) {
      const unknown = settingProblems(composeVariables(file)).filter((problem) => problem.includes('is not a'));
      assert.deepEqual(unknown, [], file);
    }
  });

  it('refuses an unknown variable, a repeated default, a fixed value without a reason and a pass-through under another name', () => {
    const file = join(scratch, 'compose.yml');
    writeFileSync(file, ['services:', '  server:', '    environment:', '      # why: a cluster-like drain', '      DRAIN_DELAY_MS: "3000"', '', '      PORT: "50051"', '      SHUTDOWN_GRACE_MS: "20000"', '      STREAM_IDLE_TIMEOUT_MS: ${IDLE:-}', '      MAX_MESSAGE_BYTES: ${MAX_MESSAGE_BYTES:-65536}', '      NOT_A_SETTING: "1"', ''].join('\n'));
    const problems = settingProblems(composeVariables(file));
    assert.deepEqual(problems.map((problem) => problem.replace(/^.*environment\.(\w+): /, '$1: ')), [
      "PORT: 50051 is PORT's default; leave it out",
      'SHUTDOWN_GRACE_MS: say in a comment why SHUTDOWN_GRACE_MS is 20000 here',
      'STREAM_IDLE_TIMEOUT_MS: pass STREAM_IDLE_TIMEOUT_MS through as ${STREAM_IDLE_TIMEOUT_MS:-} (or ${SERVER_STREAM_IDLE_TIMEOUT_MS:-}), not as IDLE',
      "MAX_MESSAGE_BYTES: the default 65536 repeats the service's own; write ${MAX_MESSAGE_BYTES:-}",
      'NOT_A_SETTING: NOT_A_SETTING is not a server setting (docs/configuration.md lists them)',
    ]);
  });
});

describe('the manifests in deploy/base', () => {
  it('set known settings only where they differ from the default, each with a reason', () => {
    const variables = manifestVariables();
    assert.ok(variables.some((variable) => variable.service === 'nginx' && variable.name === 'EDGE_UPSTREAM'), 'the env of the three Deployments is read');
    assert.deepEqual(settingProblems(variables), []);
  });
});
