import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { medianRound, renderMarkdown, targetMet, type VariantResult } from './report.ts';

const result = (variant: string, rate: number): VariantResult => ({
  scenario: '1. hop',
  variant,
  rate,
  p50: 1.5,
  p90: 2,
  p99: 3.25,
  errors: variant === 'b' ? { UNAVAILABLE: 2 } : {},
  cpu: { nginx: 0.5, server: 1, webapp: 0, 'load tool': 0.75, docker: 0.25, rest: 0.1 },
  serverRssMb: 80.2,
  extra: { resumed: 10 },
  rounds: [rate],
});

describe('medianRound', () => {
  it('picks the middle round by rate, the lower middle for an even count', () => {
    assert.equal(medianRound([{ rate: 5 }, { rate: 1 }, { rate: 3 }]).rate, 3);
    assert.equal(medianRound([{ rate: 4 }, { rate: 1 }, { rate: 3 }, { rate: 2 }]).rate, 2);
    assert.throws(() => medianRound([]));
  });
});

describe('renderMarkdown', () => {
  it('writes a table per scenario with errors by code and CPU per process, and the targets met or missed', () => {
    const markdown = renderMarkdown({
      date: '2026-11-23',
      machine: { cores: '2' },
      versions: { node: 'v24' },
      method: ['containers'],
      questions: { '1. hop': 'What does the hop cost?' },
      results: [result('a', 1000), result('b', 600)],
      targets: [
        { name: 'ratio', value: 0.6, goal: 0.6, atLeast: true, unit: '×' },
        { name: 'rss', value: 120, goal: 100, atLeast: false, unit: ' MB', limitedBy: 'the V8 heap' },
      ],
    });
    assert.match(markdown, /^## 1\. hop$/m);
    assert.match(markdown, /^\| a \| 1000 \| 1\.50 \| 2 \| 3\.25 \| 0 \| 0\.50 \/ 1 \/ 0 \/ 0\.75 \/ 0\.25 \/ 0\.10 \| 80\.2 \| resumed 10 \| 1000 \|$/m);
    assert.match(markdown, /^\| b \| 600 \|.*\| UNAVAILABLE 2 \|/m);
    assert.match(markdown, /^\| ratio \| 0\.60× \| ≥ 0\.60× \| met \|$/m);
    assert.match(markdown, /^\| rss \| 120 MB \| ≤ 100 MB \| \*\*missed\*\*: the V8 heap \|$/m);
    assert.equal(targetMet({ name: 'x', value: 5, goal: 4, atLeast: false, unit: '' }), false);
  });
});
