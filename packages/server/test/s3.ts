import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// s3rver ships no types; the little used here is declared in s3rver.d.ts beside this file.
import S3rver from 's3rver'

/**
 * A real S3-compatible server (s3rver, in-process, files in a temporary folder) with one bucket,
 * for tests of the S3 storage driver. It checks request signatures like S3 does.
 */
export async function startS3Server(bucket = 'post-scheduler-media') {
  const directory = await mkdtemp(join(tmpdir(), 'post-scheduler-s3-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  })
  const { port } = await server.run()
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    // s3rver's fixed credentials.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    directory,
    async close() {
      await server.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}
