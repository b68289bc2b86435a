// Loaded before the server (node --import ./dist/tracing.js): starts OpenTelemetry when the
// environment asks for it (common/src/tracing.ts). The server makes its spans itself, one per RPC
// in call-record.ts, so it needs no instrumentation.
import { startTracing, tracingWanted } from '@dice/common/tracing';

if (tracingWanted()) await startTracing({ serviceName: 'dice-server' });
