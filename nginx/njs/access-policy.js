// The edge's authorization (EDGE_ACCESS_POLICY), run by nginx's njs module: reads the verified
// client certificate's identities (its CN, and its URI and DNS subject alternative names, since
// CN-only matching is what the field is moving away from) and refuses a call whose method's rule
// names none of them. nginx has no variable for a certificate's SANs, hence a small DER reader.
// Runs only for methods a rule restricts ($edge_allowed_identities not empty). Written in what njs's
// own engine runs (no destructuring, for...of or spread), which Node runs too: the unit test
// (nginx/njs/access-policy.test.ts) tests this very file.

const CN = '2.5.4.3';
const SUBJECT_ALT_NAME = '2.5.29.17';

/** The element of DER at `offset`: its tag and where its content starts and ends. */
function element(der, offset) {
  if (offset + 2 > der.length) throw new Error('truncated certificate');
  const tag = der[offset];
  let length = der[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count < 1 || count > 3) throw new Error('unsupported length in certificate');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i];
    start += count;
  }
  if (start + length > der.length) throw new Error('truncated certificate');
  return { tag, start, end: start + length };
}

function children(der, parent) {
  const found = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = element(der, at);
    found.push(child);
    at = child.end;
  }
  return found;
}

function objectId(der, node) {
  const bytes = der.slice(node.start, node.end);
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    value = value * 128 + (bytes[i] & 0x7f);
    if (!(bytes[i] & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

const text = (der, node) => der.slice(node.start, node.end).toString();

/** The identities in a PEM certificate, as EDGE_ACCESS_POLICY names them: cn:NAME, uri:URI, dns:NAME. */
function identitiesOf(pem) {
  const base64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(base64, 'base64');
  const certificate = element(der, 0);
  const tbs = children(der, certificate)[0];
  const fields = children(der, tbs);
  // [0] version comes first in every v3 certificate; then serial, signature, issuer, validity, subject.
  const first = fields[0].tag === 0xa0 ? 1 : 0;
  const subject = fields[first + 4];
  const identities = [];
  children(der, subject).forEach((set) => {
    children(der, set).forEach((attribute) => {
      const typeAndValue = children(der, attribute);
      if (objectId(der, typeAndValue[0]) === CN) identities.push(`cn:${text(der, typeAndValue[1])}`);
    });
  });
  const extensions = fields.find((field) => field.tag === 0xa3);
  if (extensions) {
    children(der, children(der, extensions)[0]).forEach((extension) => {
      const parts = children(der, extension);
      if (objectId(der, parts[0]) !== SUBJECT_ALT_NAME) return;
      // GeneralName: [2] dNSName, [6] uniformResourceIdentifier (both IA5String).
      children(der, element(der, parts[parts.length - 1].start)).forEach((name) => {
        if (name.tag === 0x82) identities.push(`dns:${text(der, name)}`);
        if (name.tag === 0x86) identities.push(`uri:${text(der, name)}`);
      });
    });
  }
  return identities;
}

/** As the gRPC spec has grpc-message encoded: printable ASCII but "%" as it is, the rest percent-encoded. */
function grpcMessage(sentence) {
  let encoded = '';
  const bytes = Buffer.from(sentence);
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
  }
  return encoded;
}

/**
 * js_set $edge_access_refusal_of_client: empty when one of the client's identities is among
 * $edge_allowed_identities (" cn:a uri:b ", or "-" for nobody), otherwise the refusal sentence.
 * A certificate it cannot read is refused: authorization fails closed.
 */
function refusal(r) {
  const allowed = r.variables.edge_allowed_identities;
  let identities;
  try {
    identities = identitiesOf(r.variables.ssl_client_raw_cert || '');
  } catch (error) {
    return grpcMessage(`the client certificate's identity could not be read (${error.message}), so ${r.uri} is refused`);
  }
  if (identities.some((identity) => allowed.indexOf(` ${identity} `) >= 0)) return '';
  const who = identities.length > 0 ? identities.join(', ') : 'with no CN, URI or DNS name';
  return grpcMessage(`client ${who} may not call ${r.uri}: ask for one of its identities to be added to the edge's EDGE_ACCESS_POLICY`);
}

export default { identitiesOf, refusal };
