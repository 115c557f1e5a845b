// A GCS JSON-API server for tests: firebase-tools' Cloud Storage emulator, run in-process
// WITHOUT its Java "storage rules runtime" (only needed for Firebase-SDK rules checks; the GCS
// JSON API routes use the admin storage layer, which allows everything). firebase-tools' CLI
// will not start the emulator offline (it wants Java and downloads a rules JAR), and it uses
// internal modules, so firebase-tools is pinned to an exact version in emulator/package.json.
// It is installed there (emulator/node_modules, by install-emulator.sh, which `npm test` runs),
// not among the project's devDependencies: ~640 packages that only these tests use.
//
// Usage: node gcs-emulator-server.cjs [port] [host]
//   port 0 (the default) takes a free port; the line `READY http://host:port ...` on stdout
//   says which. SIGTERM/SIGINT stop it and delete its blobs.
// env: LOG_REQ=1 logs each request; SHIMS=0 disables the shims below;
//      EXIT_ON_STDIN_END=1 exits when stdin closes, so a parent that dies (even by SIGKILL)
//      cannot leave it running: the parent holds the pipe.
//
// Shims, each making the emulator behave like GCS where attache's adapter relies on it:
// - `/storage/v1/b...` → `/b...`: the client sends /storage/v1/b/... with apiEndpoint set; the
//   emulator routes PATCH/copy only under /b/...
// - bucket GET and create (`GET /b/:bucket`, `POST /b`): missing from the emulator, needed by
//   checkReady and by test setup. (The emulator still creates any bucket an object request names.)
// - `ifGenerationMatch` on object creation (simple and resumable uploads): the emulator ignores
//   preconditions; GCS answers 412 conditionNotMet when the object's generation differs (0 = "no
//   live object"). Checked when the upload starts; GCS also re-checks when a resumable upload
//   finalizes, which this shim does not. Likewise on copies (`rewriteTo` / `copyTo`), where the
//   precondition is on the destination.
'use strict';
const t0 = process.hrtime.bigint();
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { createRequire } = require('module');

const emulatorPackage = path.join(__dirname, 'emulator', 'package.json');
const requireFromEmulator = createRequire(emulatorPackage);
try {
  requireFromEmulator.resolve('firebase-tools/package.json');
} catch {
  process.stderr.write(`gcs-emulator-server: firebase-tools is not installed beside ${emulatorPackage}; ` +
    'run `bash test/support/gcs/install-emulator.sh` (npm test does it before the tests).\n');
  process.exit(2);
}
const express = requireFromEmulator('express'); // a dependency of firebase-tools
const { StorageEmulator } = requireFromEmulator('firebase-tools/lib/emulator/storage');
const { EmulatorRegistry } = requireFromEmulator('firebase-tools/lib/emulator/registry');
const { createApp } = requireFromEmulator('firebase-tools/lib/emulator/storage/server');
const { createDestroyer } = requireFromEmulator('firebase-tools/lib/utils');

const port = Number(process.argv[2] ?? process.env.GCS_PORT ?? 0);
const host = process.argv[3] || '127.0.0.1';
const SHIMS = process.env.SHIMS !== '0';
// Each instance gets its own blob dir (the default is a shared ${tmpdir}/firebase/storage/blobs).
const blobDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcs-emu-'));

const gcsError = (code, reason, message) => ({ error: { code, message, errors: [{ domain: 'global', reason, message }] } });

class NoRulesStorageEmulator extends StorageEmulator {
  getPersistenceTmpDir() { return blobDir; }
  async start() {
    const inner = await createApp(this.args.projectId, this);
    this._app = inner;
    const outer = express();
    if (SHIMS) {
      outer.use((req, _res, next) => { if (req.url.startsWith('/storage/v1/b')) req.url = req.url.slice('/storage/v1'.length); next(); });
      const bucketRes = (name) => ({ kind: 'storage#bucket', id: name, name, location: 'US', storageClass: 'STANDARD' });
      outer.get('/b/:bucket', (req, res) => {
        if (!this._buckets.has(req.params.bucket)) return res.status(404).json(gcsError(404, 'notFound', 'The specified bucket does not exist.'));
        res.json(bucketRes(req.params.bucket));
      });
      outer.post('/b', express.json(), (req, res) => {
        const name = req.body && req.body.name;
        if (!name) return res.status(400).json(gcsError(400, 'required', 'name required'));
        if (this._buckets.has(name)) return res.status(409).json(gcsError(409, 'conflict', 'Your previous request to create the named bucket succeeded and you already own it.'));
        this.adminStorageLayer.createBucket(name);
        res.json(bucketRes(name));
      });
      outer.post('/b/:bucket/o/:object/:method(rewriteTo|copyTo)/b/:destBucket/o/:destObject', (req, res, next) => {
        const wanted = req.query.ifGenerationMatch;
        if (wanted === undefined) return next();
        const current = this.adminStorageLayer.getMetadata(req.params.destBucket, req.params.destObject);
        if (String(current ? current.generation : 0) === String(wanted)) return next();
        res.status(412).json(gcsError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.'));
      });
      outer.post('/upload/storage/v1/b/:bucket/o', (req, res, next) => {
        const wanted = req.query.ifGenerationMatch;
        const name = req.query.name;
        if (wanted === undefined || typeof name !== 'string') return next();
        const current = this.adminStorageLayer.getMetadata(req.params.bucket, name);
        if (String(current ? current.generation : 0) === String(wanted)) return next();
        // Drain the body first: answering mid-body makes the client's write fail (EPIPE) before it
        // reads the 412.
        req.resume();
        req.once('end', () => res.status(412)
          .json(gcsError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.')));
      });
    }
    outer.use(inner);
    const handler = process.env.LOG_REQ
      ? (req, res) => {
          const t = Date.now(); const url = req.url;
          res.on('finish', () => console.log(`REQ ${req.method} ${url} ${req.headers['content-type'] || '-'} len=${req.headers['content-length'] || '-'} range=${req.headers['content-range'] || '-'} -> ${res.statusCode} ${Date.now() - t}ms`));
          outer(req, res);
        }
      : outer;
    const server = http.createServer(handler).listen(this.args.port, this.args.host);
    await new Promise((res, rej) => { server.once('listening', res); server.once('error', rej); });
    // With port 0 the OS picked one: record it, so the registry waits on the right port and the
    // emulator's selfLink/mediaLink/Location URLs name it.
    this.args.port = server.address().port;
    this.destroyServer = createDestroyer(server);
  }
  async stop() {
    await this._persistence.deleteAll().catch(() => {});
    if (this.destroyServer) await this.destroyServer();
  }
}

(async () => {
  const emu = new NoRulesStorageEmulator({ projectId: 'demo-test', host, port, auto_download: false });
  await EmulatorRegistry.start(emu); // registers it so selfLink/mediaLink/Location URLs resolve
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const { port: actualPort } = emu.getInfo();
  console.log(`READY http://${host}:${actualPort} in ${ms.toFixed(0)} ms pid=${process.pid} blobs=${blobDir}`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await EmulatorRegistry.stop('storage');
    fs.rmSync(blobDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (process.env.EXIT_ON_STDIN_END === '1') {
    process.stdin.on('end', shutdown).on('close', shutdown).resume();
  }
})().catch((e) => { console.error('FAILED', e); fs.rmSync(blobDir, { recursive: true, force: true }); process.exit(1); });
