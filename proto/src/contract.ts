import { status as grpcStatus } from '@grpc/grpc-js';

/**
 * The wire contract in code: every service name, method path and metadata key the stack puts on
 * the wire is spelled here once. A new RPC is declared in api.proto and named here.
 */

/** Services the server offers, by their fully qualified proto names. */
export const serviceNames = {
  dice: 'api.DiceService',
  health: 'grpc.health.v1.Health',
  /** Server reflection, both versions: grpcurl asks for v1 first and falls back to v1alpha. */
  reflection: 'grpc.reflection.v1.ServerReflection',
  reflectionAlpha: 'grpc.reflection.v1alpha.ServerReflection',
} as const;

/** Full method paths (what nginx routes on and what the server logs). */
export const methodPaths = {
  /** RollDie, as clients of the original tutorial call it. */
  rollDie: `/${serviceNames.dice}/RollDie`,
  /** Server streaming: one message per die. */
  rollDice: `/${serviceNames.dice}/RollDice`,
  /** Bidirectional: one answer per request, on one long-lived stream. */
  rollOnDemand: `/${serviceNames.dice}/RollOnDemand`,
  /** Health's server stream, used by clients' health checking (healthCheckConfig). */
  healthWatch: `/${serviceNames.health}/Watch`,
} as const;

/** The ranges api.proto documents for its request fields; the server refuses anything outside them. */
export const rollLimits = {
  count: { min: 1, max: 100 },
  intervalMs: { min: 0, max: 10_000 },
  tagBytes: 1024,
} as const;

/** Prefix of every health method: polled by healthchecks, exempt from caller identity. */
export const healthServicePrefix = `/${serviceNames.health}/`;

/** Metadata keys, as they travel (lowercase). */
export const metadataKeys = {
  /** Response header (a trailer on failures) naming the server replica that answered. */
  replica: 'x-dice-replica',
  /** Request id from the browser (an HTTP header of the web app too), through nginx to the server. */
  requestId: 'x-request-id',
  /** The caller identity nginx sets after verifying the client certificate (grpc_set_header). */
  clientVerify: 'x-ssl-client-verify',
  clientSubject: 'x-ssl-client-s-dn',
  clientSha1: 'x-ssl-client-sha1',
  /** The whole client certificate, URL-encoded PEM. */
  clientCertificate: 'x-ssl-client-cert',
  /**
   * The edge's token (a secret the edge and the server share): only a call that carries it came
   * through the edge, so only then are the x-ssl-client-* values believed.
   */
  edgeToken: 'x-dice-edge-token',
} as const;

/** The gRPC status name for a code ("OK", "UNAVAILABLE"), or the number for an unknown code. */
export function statusName(code: number): string {
  return grpcStatus[code] ?? String(code);
}
