import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tracingWanted } from './tracing.ts';

describe('tracingWanted', () => {
  it('is on only when an OTLP endpoint is named and the SDK is not disabled, as the specification names them', () => {
    assert.equal(tracingWanted({}), false, 'off by default');
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }), false, 'compose passes an empty value through');
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317' }), true);
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4317' }), true, 'the traces-only endpoint too');
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_SDK_DISABLED: 'TRUE' }), false);
    assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_SDK_DISABLED: 'false' }), true);
  });
});
