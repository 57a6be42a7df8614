// Starts @20minutes/s3rver (the second S3 server of the tests); its package ships no bin.
// Environment (set by scripts/servers/s3rver.sh):
//   S3RVER_MODULE   path of the installed package (…/node_modules/@20minutes/s3rver)
//   S3RVER_DIR      where it stores buckets and objects
//   S3RVER_PORT     port on 127.0.0.1
//   S3RVER_KEY / S3RVER_SECRET   the credentials it accepts
//   S3RVER_BUCKET   bucket created before the server listens
//   S3RVER_VERBOSE  "1" to log every request
'use strict';

const path = require('path');

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`s3rver.js: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const modulePath = env('S3RVER_MODULE');
const S3rver = require(modulePath);
// s3rver verifies SigV4 against the secret registered for the request's access key. Its only
// built-in pair is S3RVER/S3RVER on a dummy account; registering ours on that account and
// revoking the built-in one makes the server accept exactly our credentials.
const AWSAccount = require(path.join(modulePath, 'lib', 'models', 'account'));
AWSAccount.DUMMY_ACCOUNT.createKeyPair(env('S3RVER_KEY'), env('S3RVER_SECRET'));
if (env('S3RVER_KEY') !== 'S3RVER') AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(env('S3RVER_PORT')),
  directory: env('S3RVER_DIR'),
  silent: process.env.S3RVER_VERBOSE !== '1',
  vhostBuckets: false,  // path-style only, like every custom endpoint in s3db
  configureBuckets: [{ name: env('S3RVER_BUCKET') }],
});

server.run().then(
  (addr) => console.log(`s3rver listening on ${addr.address}:${addr.port}`),
  (err) => {
    console.error(`s3rver failed to start: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);

function shutdown() {
  server.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
