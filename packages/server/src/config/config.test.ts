import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.ts'

describe('loadConfig', () => {
  it('gives working defaults for an empty environment', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      publicURL: 'http://127.0.0.1:3000',
      databaseURL: undefined,
      dataDir: resolve('.post-scheduler'),
      queueSchema: 'pgboss',
      logLevel: 'info',
      maxBodyBytes: 1024 * 1024,
      shutdownTimeoutSeconds: 30,
      shutdownDrainSeconds: 5,
      tls: undefined,
    })
  })

  it('reads every variable it documents', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://scheduler.example.com/',
      DATABASE_URL: 'postgresql://app:secret@db.internal:5432/app',
      DATA_DIR: '/var/lib/post-scheduler',
      EMBEDDED_POSTGRES_PORT: '5433',
      QUEUE_SCHEMA: 'jobs',
      WORKER_HEARTBEAT_SECONDS: '5',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      TLS_CERT_FILE: '/etc/tls/cert.pem',
      TLS_KEY_FILE: '/etc/tls/key.pem',
      MAX_BODY_BYTES: '2048',
      SHUTDOWN_TIMEOUT_SECONDS: '5',
      SHUTDOWN_DRAIN_SECONDS: '2',
      TRUST_PROXY: 'true',
      SMTP_URL: 'smtps://mailer:secret@smtp.example.com:465',
      MAIL_FROM: 'Scheduler <hello@example.com>',
      SESSION_TTL_DAYS: '7',
      PROFILE_TOKEN_TTL_SECONDS: '600',
      RATE_LIMIT_PER_MINUTE: '100',
      ENCRYPTION_KEYS: `k2:${Buffer.alloc(32, 2).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64')}`,
      PUBLISH_DEADLINE_SECONDS: '120',
      PUBLISH_CONCURRENCY: '4',
      PUBLISH_PLATFORM_CONCURRENCY: '30',
      PUBLISH_MAX_ATTEMPTS: '3',
      SWEEP_INTERVAL_SECONDS: '5',
      SANDBOX_LATENCY_MS: '250',
      PLATFORM_EMULATORS: 'true',
      X_CLIENT_ID: 'x-client',
      X_CLIENT_SECRET: 'x-secret',
      LINKEDIN_CLIENT_ID: 'li-client',
      LINKEDIN_CLIENT_SECRET: 'li-secret',
      LINKEDIN_REFRESH_TOKENS: 'true',
      INSTAGRAM_CLIENT_ID: 'ig-client',
      INSTAGRAM_CLIENT_SECRET: 'ig-secret',
      INSTAGRAM_LOGIN: 'facebook',
      INSTAGRAM_GRAPH_VERSION: 'v23.0',
      FACEBOOK_CLIENT_ID: 'fb-client',
      FACEBOOK_CLIENT_SECRET: 'fb-secret',
      FACEBOOK_GRAPH_VERSION: 'v24.0',
      MEDIA_STORAGE: 's3',
      MEDIA_LOCAL_DIR: '/srv/media',
      MEDIA_S3_BUCKET: 'scheduler-media',
      MEDIA_S3_ENDPOINT: 'https://s3.example.com',
      MEDIA_S3_REGION: 'eu-west-3',
      MEDIA_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      MEDIA_S3_SECRET_ACCESS_KEY: 's3-secret',
      MEDIA_S3_FORCE_PATH_STYLE: 'false',
      MEDIA_S3_PREFIX: 'post-scheduler/',
      MEDIA_MAX_FILE_BYTES: '1048576',
      MEDIA_WORKSPACE_QUOTA_BYTES: '0',
      MEDIA_UPLOAD_PART_BYTES: '65536',
      MEDIA_UPLOAD_TTL_HOURS: '2',
      MEDIA_UNREFERENCED_TTL_HOURS: '48',
      MEDIA_SIGNED_URL_TTL_SECONDS: '600',
      MEDIA_IMPORT_TIMEOUT_SECONDS: '10',
      MEDIA_IMPORT_ALLOWED_NETWORKS: '10.1.0.0/16, fd00::/8',
      WEBHOOK_ALLOWED_NETWORKS: '192.168.10.0/24',
      WEBHOOK_TIMEOUT_SECONDS: '5',
      WEBHOOK_CONCURRENCY: '3',
      PRIVACY_DELETION_UNDO_DAYS: '3',
      PRIVACY_EXPORT_TTL_HOURS: '24',
      PRIVACY_EXPORT_LINK_TTL_SECONDS: '300',
      PRIVACY_POLICY_NOTICE_DAYS: '45',
      MEDIA_PUBLISHED_GRACE_HOURS: '0',
    })
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      publicURL: 'https://scheduler.example.com',
      databaseURL: 'postgresql://app:secret@db.internal:5432/app',
      dataDir: '/var/lib/post-scheduler',
      embeddedPostgresPort: 5433,
      queueSchema: 'jobs',
      workerHeartbeatSeconds: 5,
      logLevel: 'debug',
      logFormat: 'json',
      tls: { certFile: '/etc/tls/cert.pem', keyFile: '/etc/tls/key.pem' },
      maxBodyBytes: 2048,
      shutdownTimeoutSeconds: 5,
      shutdownDrainSeconds: 2,
      trustProxy: true,
      smtpURL: 'smtps://mailer:secret@smtp.example.com:465',
      mailFrom: 'Scheduler <hello@example.com>',
      sessionTTLDays: 7,
      profileTokenTTLSeconds: 600,
      rateLimitPerMinute: 100,
      encryptionKeys: [
        { id: 'k2', key: new Uint8Array(32).fill(2) },
        { id: 'k1', key: new Uint8Array(32).fill(1) },
      ],
      publishing: {
        deadlineSeconds: 120,
        concurrency: 4,
        accountConcurrency: 4,
        platformConcurrency: 30,
        maxAttempts: 3,
        maxProcessingSeconds: 86_400,
        sweepIntervalSeconds: 5,
      },
      sandboxLatencyMs: 250,
      platformEmulators: true,
      platformApps: {
        x: { clientId: 'x-client', clientSecret: 'x-secret' },
        linkedin: { clientId: 'li-client', clientSecret: 'li-secret' },
        instagram: { clientId: 'ig-client', clientSecret: 'ig-secret' },
        facebook: { clientId: 'fb-client', clientSecret: 'fb-secret' },
      },
      linkedinRefreshTokens: true,
      meta: {
        instagramLogin: 'facebook',
        instagramGraphVersion: 'v23.0',
        facebookGraphVersion: 'v24.0',
      },
      media: {
        storage: 's3',
        localDir: '/srv/media',
        s3: {
          bucket: 'scheduler-media',
          endpoint: 'https://s3.example.com',
          region: 'eu-west-3',
          credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's3-secret' },
          forcePathStyle: false,
          prefix: 'post-scheduler/',
        },
        maxFileBytes: 1048576,
        workspaceQuotaBytes: 0,
        uploadPartBytes: 65536,
        uploadTTLHours: 2,
        unreferencedTTLHours: 48,
        signedURLTTLSeconds: 600,
        importTimeoutSeconds: 10,
        importAllowedNetworks: ['10.1.0.0/16', 'fd00::/8'],
      },
      webhooks: { allowedNetworks: ['192.168.10.0/24'], timeoutSeconds: 5, concurrency: 3 },
      privacy: {
        deletionUndoDays: 3,
        exportTTLHours: 24,
        exportLinkTTLSeconds: 300,
        policyNoticeDays: 45,
        publishedMediaGraceHours: 0,
      },
    })
  })

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({
      port: 3000,
      databaseURL: undefined,
    })
  })

  it.each([
    ['PORT', 'abc', 'PORT must be a whole number from 0 to 65535 (got "abc")'],
    ['PORT', '70000', 'PORT must be a whole number from 0 to 65535 (got "70000")'],
    ['PORT', '-1', 'PORT must be a whole number from 0 to 65535 (got "-1")'],
    ['DATABASE_URL', 'localhost:5432', 'DATABASE_URL must be a PostgreSQL connection URL'],
    ['DATABASE_URL', 'mysql://db/app', 'DATABASE_URL must be a PostgreSQL connection URL'],
    [
      'LOG_LEVEL',
      'loud',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ],
    ['QUEUE_SCHEMA', 'Robert"); drop', 'QUEUE_SCHEMA must be a lower-case PostgreSQL identifier'],
    ['TRUST_PROXY', 'yes', 'TRUST_PROXY must be true or false'],
    ['PLATFORM_EMULATORS', 'on', 'PLATFORM_EMULATORS must be true or false'],
    ['INSTAGRAM_LOGIN', 'google', 'INSTAGRAM_LOGIN must be instagram or facebook'],
    [
      'FACEBOOK_GRAPH_VERSION',
      '24',
      'FACEBOOK_GRAPH_VERSION must be a Graph API version such as v23.0',
    ],
    ['PUBLIC_URL', 'scheduler.example.com', 'PUBLIC_URL must be the http(s) URL'],
    ['SMTP_URL', 'mail.example.com', 'SMTP_URL must be an SMTP URL'],
    ['MEDIA_STORAGE', 'ftp', 'MEDIA_STORAGE must be local or s3'],
    ['MEDIA_MAX_FILE_BYTES', '10', 'MEDIA_MAX_FILE_BYTES must be a whole number from 1024'],
    [
      'MEDIA_IMPORT_ALLOWED_NETWORKS',
      '10.0.0.0/8,intranet',
      'MEDIA_IMPORT_ALLOWED_NETWORKS must be comma-separated CIDR networks such as 10.1.0.0/16 (intranet is not one)',
    ],
    ['MEDIA_S3_PREFIX', '../up', 'MEDIA_S3_PREFIX must be folder names ending with /'],
    [
      'WEBHOOK_ALLOWED_NETWORKS',
      '127.0.0.1',
      'WEBHOOK_ALLOWED_NETWORKS must be comma-separated CIDR networks such as 10.1.0.0/16 (127.0.0.1 is not one)',
    ],
    [
      'PRIVACY_DELETION_UNDO_DAYS',
      '30',
      'PRIVACY_DELETION_UNDO_DAYS must be a whole number from 0 to 14 (got "30")',
    ],
    ['WEBHOOK_TIMEOUT_SECONDS', '0', 'WEBHOOK_TIMEOUT_SECONDS must be a whole number from 1 to 60'],
    [
      'ENCRYPTION_KEYS',
      'k1:c2hvcnQ=',
      'ENCRYPTION_KEYS must be id:base64key,… — key "k1" must be 32 bytes',
    ],
  ])('refuses %s=%s with a message naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(message)
  })

  it('never echoes secret values in its messages', () => {
    expect(() => loadConfig({ ENCRYPTION_KEYS: 'k1:c2VjcmV0' })).toThrow(/^(?!.*c2VjcmV0)/)
    expect(() => loadConfig({ DATABASE_URL: 'hunter2' })).not.toThrow(/hunter2/)
  })

  it('reports every invalid variable in one line', () => {
    const error = captureError(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y' }))
    expect(error.message).not.toContain('\n')
    expect(error.message).toMatch(/PORT .*; LOG_LEVEL /)
  })

  it('keeps media in the data folder by default, with limits and an S3 store only when asked', () => {
    expect(loadConfig({ DATA_DIR: '/var/lib/ps' }).media).toMatchObject({
      storage: 'local',
      localDir: '/var/lib/ps/media',
      s3: undefined,
      maxFileBytes: 2 * 1024 ** 3,
      uploadPartBytes: 8 * 1024 ** 2,
      unreferencedTTLHours: 720,
      importAllowedNetworks: [],
    })
    expect(
      loadConfig({ MEDIA_S3_BUCKET: 'media', MEDIA_S3_ENDPOINT: 'http://minio:9000' }).media.s3,
    ).toMatchObject({ forcePathStyle: true, credentials: undefined, region: 'us-east-1' })
  })

  it('wants a bucket for the S3 driver and S3 credentials in pairs, never echoing the secret', () => {
    expect(() => loadConfig({ MEDIA_STORAGE: 's3' })).toThrow(
      'MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET',
    )
    expect(() =>
      loadConfig({ MEDIA_S3_BUCKET: 'media', MEDIA_S3_SECRET_ACCESS_KEY: 'hunter2' }),
    ).toThrow('must be set together')
    expect(() => loadConfig({ MEDIA_S3_SECRET_ACCESS_KEY: 'hunter2', PORT: 'x' })).not.toThrow(
      /hunter2/,
    )
  })

  it('wants the TLS certificate and key together', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: '/etc/tls/cert.pem' })).toThrow(
      'TLS_CERT_FILE and TLS_KEY_FILE must be set together',
    )
  })
})

function captureError(run: () => unknown): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected an error')
}
