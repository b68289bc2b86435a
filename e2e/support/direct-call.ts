// A RollDie call made straight to the server's h2c port from a container on its network (a server
// container itself: it has node, grpc-js and the contract), as any pod that reaches port 50051
// could, with whatever metadata the caller chooses to claim.
import { docker } from './docker.ts';

export interface DirectCallOutcome {
  code: number;
  details: string;
}

const script = `
import * as grpc from '@grpc/grpc-js';
import { loadDiceApi } from '@dice/proto';
const client = new (loadDiceApi().api.DiceService)(process.env.TARGET, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
for (const [key, value] of Object.entries(JSON.parse(process.env.CLAIMS))) metadata.set(key, value);
client.RollDie({}, metadata, { deadline: Date.now() + 5000 }, (error) => {
  console.log(JSON.stringify(error ? { code: error.code, details: error.details } : { code: 0, details: '' }));
  process.exit(0);
});`;

/** Calls `target` (server:50051) from inside container `from`, with `claims` as request metadata. */
export async function callServerDirectly(from: string, target: string, claims: Record<string, string>): Promise<DirectCallOutcome> {
  const output = await docker('exec', '-e', `TARGET=${target}`, '-e', `CLAIMS=${JSON.stringify(claims)}`, from, 'node', '--input-type=module', '-e', script);
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as DirectCallOutcome;
}
