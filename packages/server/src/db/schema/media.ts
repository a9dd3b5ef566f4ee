import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  primaryKey,
  text,
} from 'drizzle-orm/pg-core'
import { profiles, workspaces } from './identity.ts'
import { createdAt, instant, postScheduler } from './namespace.ts'

const bytes = (name: string) => bigint(name, { mode: 'number' })

/** A stored copy of a media file other than the one published (a thumbnail). */
export interface StoredMediaVariant {
  name: 'thumbnail'
  storageKey: string
  mimeType: string
  sizeBytes: number
  width: number
  height: number
}

/** What inspection found beyond the indexed columns. */
export interface MediaDetails {
  /** `mp4` or `quicktime` for videos; the image format otherwise. */
  container: string
  /** Codec of the first video track (`avc1.64001f`, `hvc1`…). */
  videoCodec?: string | undefined
  /** Codec of the first audio track (`mp4a.40.2`…). */
  audioCodec?: string | undefined
  /** Clockwise rotation a player applies (video display matrix), in degrees. */
  rotationDegrees?: number | undefined
  /** Whether `moov` comes before the media data, as Instagram wants. */
  fastStart?: boolean | undefined
  /** The EXIF orientation the upload had (1–8); the stored copy is turned upright. */
  exifOrientation?: number | undefined
  /** Whether the upload carried EXIF, XMP or IPTC metadata that was removed from the stored copy. */
  metadataRemoved?: boolean | undefined
  /** Frames of an animated image. */
  frames?: number | undefined
  /** Where it came from. */
  source: 'upload' | 'resumable' | 'import'
  /** The URL of an import (after redirects). */
  sourceURL?: string | undefined
}

/** What a media file is; GIFs are apart because platforms limit them apart. */
export const MEDIA_KINDS = ['image', 'gif', 'video'] as const

/** A resumable upload's state: parts arriving, being joined, or made into a media file. */
export const MEDIA_UPLOAD_STATUSES = ['open', 'completing', 'completed'] as const

/**
 * A stored media file of a profile: its sniffed type and inspected properties. The bytes live in
 * the storage driver under `storageKey`; `sha256` is the checksum of exactly those bytes.
 */
export const media = postScheduler.table(
  'media',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    profileId: text('profile_id')
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: MEDIA_KINDS }).notNull(),
    mimeType: text('mime_type').notNull(),
    sizeBytes: bytes('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    storageKey: text('storage_key').notNull(),
    filename: text('filename'),
    altText: text('alt_text'),
    width: integer('width'),
    height: integer('height'),
    durationSeconds: doublePrecision('duration_seconds'),
    frameRate: doublePrecision('frame_rate'),
    bitRate: bytes('bit_rate'),
    hasAudio: boolean('has_audio'),
    details: jsonb('details').$type<MediaDetails>().notNull(),
    variants: jsonb('variants').$type<StoredMediaVariant[]>().notNull().default([]),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [
    index('media_workspace_listing_idx').on(t.workspaceId, t.createdAt, t.id),
    index('media_profile_idx').on(t.profileId),
  ],
)

/**
 * What uses a media file (a scheduled post, later): while a row points to it, deleting the media
 * needs `force`. The posts engine adds and removes rows in the transactions that schedule and
 * finish posts.
 */
export const mediaReferences = postScheduler.table(
  'media_references',
  {
    mediaId: text('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    /** What refers to it, e.g. `post`. */
    kind: text('kind').notNull(),
    refId: text('ref_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.mediaId, t.kind, t.refId] }),
    index('media_references_ref_idx').on(t.kind, t.refId),
  ],
)

/** A resumable upload: a declared size, cut in parts of `partSizeBytes`, completed into a media. */
export const mediaUploads = postScheduler.table(
  'media_uploads',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    profileId: text('profile_id')
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    filename: text('filename'),
    altText: text('alt_text'),
    sizeBytes: bytes('size_bytes').notNull(),
    partSizeBytes: integer('part_size_bytes').notNull(),
    /** The checksum the client announced, checked at completion. */
    sha256: text('sha256'),
    status: text('status', { enum: MEDIA_UPLOAD_STATUSES }).notNull().default('open'),
    mediaId: text('media_id'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    expiresAt: instant('expires_at').notNull(),
  },
  (t) => [
    index('media_uploads_workspace_idx').on(t.workspaceId),
    index('media_uploads_expiry_idx').on(t.expiresAt),
  ],
)

/** One received part of a resumable upload, stored under `storageKey`. */
export const mediaUploadParts = postScheduler.table(
  'media_upload_parts',
  {
    uploadId: text('upload_id')
      .notNull()
      .references(() => mediaUploads.id, { onDelete: 'cascade' }),
    partNumber: integer('part_number').notNull(),
    sizeBytes: bytes('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    storageKey: text('storage_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.uploadId, t.partNumber] })],
)

/**
 * Storage objects whose rows are gone (deleted media, parts of finished or abandoned uploads,
 * a profile or workspace deleted with everything it owns). A trigger fills it on every delete,
 * whoever deletes; the cleanup job removes the objects and then the rows.
 */
export const mediaGarbage = postScheduler.table('media_garbage', {
  storageKey: text('storage_key').primaryKey(),
  createdAt: createdAt(),
})
