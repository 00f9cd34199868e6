import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { Code, RpcError } from '../../src/index.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { RATIO_FREE_BYTES, decompress } from '../../src/transport/grpc/compression.js';
import { grpcFrame, grpcHeaders, rawRequest, rawSession } from '../grpc/fixtures/raw-h2.js';
import { counted, startOn } from './support.js';

/**
 * `maxDecompressionRatio`: a compressed gRPC message may inflate to at most that many times its
 * size (past its first MiB), so a gzip bomb is refused with RESOURCE_EXHAUSTED naming the limit
 * after inflating a bounded amount, even under a large `maxMessageSize`; ordinary data passes.
 */

const MiB = 1024 * 1024;

test('a gzip bomb inflates no further than the ratio allows and is refused naming the limit', async () => {
  const bomb = gzipSync(Buffer.alloc(64 * MiB));
  let refusals = 0;
  await assert.rejects(decompress('gzip', bomb, 1024 * MiB, { maxRatio: 200, refused: () => refusals++ }), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.match(error.message, /inflates past 200 times that size \(maxDecompressionRatio\)/);
    return true;
  });
  assert.equal(refusals, 1);
  // Where the message size limit is the smaller one, it is the one named.
  await assert.rejects(decompress('gzip', bomb, 2 * MiB, { maxRatio: 200 }), /exceeds the limit of 2097152 bytes/);
});

test('small messages of any ratio, and large ones of ordinary ratio, inflate', async () => {
  const zeros = Buffer.alloc(RATIO_FREE_BYTES);
  assert.equal((await decompress('gzip', gzipSync(zeros), 16 * MiB, { maxRatio: 2 })).length, zeros.length);
  const mixed = Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([randomBytes(1024), Buffer.alloc(32 * 1024)])));
  assert.equal((await decompress('deflate', deflateSync(mixed), 16 * MiB)).length, mixed.length);
});

test('grpc: a gzip bomb request is RESOURCE_EXHAUSTED naming maxDecompressionRatio, and counted', async (t) => {
  const { server, address } = await startOn(t, 'grpc');
  const session = await rawSession(t, Number(new URL(address).port));
  const headers = grpcHeaders('/demo.Calculator/echo', { 'content-type': 'application/grpc+msgpack', 'grpc-encoding': 'gzip', 'switchyard-version': '1.0.0' });
  const bomb = gzipSync(msgpackSerializer().encode([Buffer.alloc(15 * MiB)]));
  const response = await rawRequest(session, headers, grpcFrame(bomb, 1));
  assert.equal(response.grpcStatus, Code.RESOURCE_EXHAUSTED, response.grpcMessage);
  assert.match(response.grpcMessage ?? '', /maxDecompressionRatio/);
  await counted(server, 'maxDecompressionRatio');
  const ordinary = msgpackSerializer().encode([randomBytes(4096)]);
  const echoed = await rawRequest(session, headers, grpcFrame(gzipSync(ordinary), 1));
  assert.equal(echoed.grpcStatus, Code.OK, echoed.grpcMessage);
});
