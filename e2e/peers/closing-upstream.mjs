// make soak's nginx experiment: a bare HTTP/2 gRPC upstream (no grpc-js) that answers RollDie
// (value 3) and Health/Check (SERVING), and after each RollDie ends its connection the way
// UPSTREAM_CLOSE says:
//   never          keeps it, as a server that is not shutting down;
//   at-once        GOAWAY, then FIN as soon as the call is done: what grpc-js's tryShutdown does;
//   goaway-linger  GOAWAY at once, FIN a second later: what the project's server does when draining.
// Every RollDie is then the first call on a new upstream connection, the case nginx gets wrong.
import http2 from 'node:http2';

const mode = process.env.UPSTREAM_CLOSE ?? 'never';
const server = http2.createServer();
server.on('stream', (stream, headers) => {
  const check = String(headers[':path']).endsWith('/Check');
  stream.resume();
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    // A length-prefixed message with field 1 = 1 (SERVING) or 3 (the die).
    stream.end(Buffer.from([0, 0, 0, 0, 2, 8, check ? 1 : 3]));
    if (check) return;
    const session = stream.session;
    if (mode === 'at-once') session.close();
    if (mode === 'goaway-linger') {
      session.goaway();
      setTimeout(() => session.destroy(), 1000);
    }
  });
});
server.listen(50051, '0.0.0.0');
