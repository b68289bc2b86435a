// How the web app answers over HTTP: the sentences and status for a failed dice call, and the headers of its pages.
import { status as grpcStatus } from '@grpc/grpc-js';
import type { DiceCallError } from './dice-channel.ts';

export const unavailableSentence = 'The dice service is unavailable, try again shortly';
export const refusedSentence = 'The dice service could not answer this request; the problem has been logged';

/** gRPC codes that mean "try again later" rather than "something is misconfigured". */
const transientCodes = new Set([grpcStatus.UNAVAILABLE, grpcStatus.DEADLINE_EXCEEDED, grpcStatus.RESOURCE_EXHAUSTED, grpcStatus.ABORTED, grpcStatus.CANCELLED]);

/** How a failed dice call is answered over HTTP: 503 (retry shortly) or 502 (retrying will not help). */
export function httpAnswerFor(error: DiceCallError): { statusCode: 502 | 503; sentence: string; grpcCode: string } {
  return transientCodes.has(error.code)
    ? { statusCode: 503, sentence: unavailableSentence, grpcCode: error.codeName }
    : { statusCode: 502, sentence: refusedSentence, grpcCode: error.codeName };
}

export const htmlSecurityHeaders = {
  // Scripts and the event stream from this origin only (the Roll N dice script); nothing else loads.
  'content-security-policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};
