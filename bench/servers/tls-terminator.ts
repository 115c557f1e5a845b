// TLS in front of the bench's Ceph RGW, which serves plain HTTP: S3 over HTTPS, as on AWS. Bytes
// pass through unchanged (the Host header the clients signed included), so SigV4 verifies. The
// certificate is the test suite's (test/support/s3/tls); clients trust it through NODE_EXTRA_CA_CERTS
// or tls.setDefaultCACertificates. Upstream: TARGET_PORT on 127.0.0.1.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createServer } from 'node:tls';
import { TEST_TLS } from '../../test/support/s3/recording-s3-proxy.ts';

const targetPort = Number(process.env.TARGET_PORT);

const server = createServer({ key: readFileSync(TEST_TLS.key), cert: readFileSync(TEST_TLS.cert) }, (client) => {
  const upstream = connect(targetPort, '127.0.0.1');
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING https://127.0.0.1:${(server.address() as { port: number }).port}`);
});
