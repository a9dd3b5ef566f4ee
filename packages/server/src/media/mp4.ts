import { open } from 'node:fs/promises'

/** What {@link probeMP4} reads from an MP4 or QuickTime file's `moov` box. */
export interface MP4Probe {
  /** `mp4` (ISO base media) or `quicktime` (brand `qt  `). */
  container: 'mp4' | 'quicktime'
  durationSeconds: number
  width: number | undefined
  height: number | undefined
  frameRate: number | undefined
  /** Average over the whole file, bits per second. */
  bitRate: number | undefined
  videoCodec: string | undefined
  audioCodec: string | undefined
  hasAudio: boolean
  /** Clockwise rotation of the video track's display matrix: 0, 90, 180 or 270. */
  rotationDegrees: number
  /** Whether `moov` comes before `mdat` ("fast start"), which Instagram requires. */
  fastStart: boolean
}

/** Thrown when the file is not a readable MP4/QuickTime file. */
export class MP4ParseError extends Error {
  override name = 'MP4ParseError'
}

// moov holds only tables (sample sizes, offsets): megabytes even for hour-long videos.
const MAX_MOOV_BYTES = 64 * 1024 * 1024

interface Box {
  type: string
  /** Offset of the payload. */
  start: number
  /** Offset after the box. */
  end: number
}

function* boxes(buffer: Buffer, start: number, end: number): Generator<Box> {
  let offset = start
  while (offset + 8 <= end) {
    let size = buffer.readUInt32BE(offset)
    const type = buffer.toString('latin1', offset + 4, offset + 8)
    let header = 8
    if (size === 1) {
      if (offset + 16 > end) return
      size = Number(buffer.readBigUInt64BE(offset + 8))
      header = 16
    } else if (size === 0) {
      size = end - offset
    }
    if (size < header || offset + size > end) return
    yield { type, start: offset + header, end: offset + size }
    offset += size
  }
}

const child = (buffer: Buffer, parent: Box, type: string) => {
  for (const box of boxes(buffer, parent.start, parent.end)) if (box.type === type) return box
  return undefined
}

const path = (buffer: Buffer, parent: Box, ...types: string[]) => {
  let box: Box | undefined = parent
  for (const type of types) box = box && child(buffer, box, type)
  return box
}

/** Reads version-dependent timescale and duration of `mvhd` or `mdhd`. */
function timing(buffer: Buffer, box: Box) {
  const version = buffer.readUInt8(box.start)
  return version === 1
    ? {
        timescale: buffer.readUInt32BE(box.start + 20),
        duration: Number(buffer.readBigUInt64BE(box.start + 24)),
      }
    : {
        timescale: buffer.readUInt32BE(box.start + 12),
        duration: buffer.readUInt32BE(box.start + 16),
      }
}

function sampleEntry(buffer: Buffer, stsd: Box) {
  // stsd: version/flags (4), entry count (4), then sample entries (size, format, …).
  const first = boxes(buffer, stsd.start + 8, stsd.end).next()
  return first.done ? undefined : first.value
}

function videoCodec(buffer: Buffer, entry: Box): string {
  // Visual sample entry: 8 bytes of SampleEntry, 70 of VisualSampleEntry, then child boxes.
  const childrenStart = entry.start + 78
  const avcC = [...boxes(buffer, childrenStart, entry.end)].find((box) => box.type === 'avcC')
  if ((entry.type === 'avc1' || entry.type === 'avc3') && avcC && avcC.end - avcC.start >= 4) {
    const hex = (value: number) => value.toString(16).padStart(2, '0')
    return `${entry.type}.${hex(buffer[avcC.start + 1] ?? 0)}${hex(buffer[avcC.start + 2] ?? 0)}${hex(buffer[avcC.start + 3] ?? 0)}`
  }
  return entry.type.trim()
}

function audioCodec(buffer: Buffer, entry: Box): string {
  if (entry.type !== 'mp4a') return entry.type.trim()
  // Audio sample entry: 8 + 20 bytes, then esds; the object type is in the decoder config.
  const esds = [...boxes(buffer, entry.start + 28, entry.end)].find((box) => box.type === 'esds')
  if (!esds) return 'mp4a'
  const payload = buffer.subarray(esds.start + 4, esds.end)
  const decoderConfig = payload.indexOf(0x04)
  if (decoderConfig < 0) return 'mp4a'
  let offset = decoderConfig + 1
  while (offset < payload.length && (payload[offset] ?? 0) & 0x80) offset += 1
  const objectType = payload[offset + 1]
  if (objectType !== 0x40)
    return objectType === undefined ? 'mp4a' : `mp4a.${objectType.toString(16)}`
  const specific = payload.indexOf(0x05, offset + 14)
  if (specific < 0) return 'mp4a.40'
  let at = specific + 1
  while (at < payload.length && (payload[at] ?? 0) & 0x80) at += 1
  const audioObjectType = (payload[at + 1] ?? 0) >> 3
  return `mp4a.40.${audioObjectType}`
}

function rotation(buffer: Buffer, tkhd: Box): number {
  const version = buffer.readUInt8(tkhd.start)
  const matrix = tkhd.start + (version === 1 ? 52 : 40)
  if (matrix + 36 > tkhd.end) return 0
  const a = buffer.readInt32BE(matrix)
  const b = buffer.readInt32BE(matrix + 4)
  const degrees = Math.round((Math.atan2(b, a) * 180) / Math.PI)
  return (degrees + 360) % 360
}

function sampleCount(buffer: Buffer, stbl: Box): number | undefined {
  const stts = child(buffer, stbl, 'stts')
  if (!stts) return undefined
  const entries = buffer.readUInt32BE(stts.start + 4)
  let count = 0
  for (let index = 0; index < entries; index += 1) {
    const at = stts.start + 8 + index * 8
    if (at + 8 > stts.end) break
    count += buffer.readUInt32BE(at)
  }
  return count
}

/**
 * Reads an MP4 or QuickTime file's properties from its `moov` box, without reading the media data:
 * top-level boxes are walked by their headers, so a 1 GB file costs a few small reads wherever its
 * `moov` is. Pure JavaScript: nothing to install.
 *
 * @throws {MP4ParseError} when the file has no readable `moov` or no video track.
 * @example
 * ```ts
 * const { durationSeconds, width, height, videoCodec } = await probeMP4('/tmp/upload.mp4')
 * ```
 */
export async function probeMP4(file: string): Promise<MP4Probe> {
  const handle = await open(file, 'r')
  try {
    const { size } = await handle.stat()
    const header = Buffer.alloc(16)
    let offset = 0
    let brand = ''
    let moov: Buffer | undefined
    let mdatSeen = false
    let fastStart = false
    while (offset + 8 <= size) {
      const { bytesRead } = await handle.read(header, 0, 16, offset)
      if (bytesRead < 8) break
      let boxSize = header.readUInt32BE(0)
      const type = header.toString('latin1', 4, 8)
      let headerSize = 8
      if (boxSize === 1) {
        boxSize = Number(header.readBigUInt64BE(8))
        headerSize = 16
      } else if (boxSize === 0) {
        boxSize = size - offset
      }
      if (boxSize < headerSize) throw new MP4ParseError(`A ${type} box has a broken size`)
      if (type === 'ftyp') {
        brand = header.toString('latin1', 8, 12)
      } else if (type === 'mdat') {
        mdatSeen = true
      } else if (type === 'moov') {
        if (boxSize > MAX_MOOV_BYTES) throw new MP4ParseError('The moov box is implausibly large')
        moov = Buffer.alloc(boxSize)
        await handle.read(moov, 0, boxSize, offset)
        fastStart = !mdatSeen
        break
      }
      offset += boxSize
    }
    if (!moov) throw new MP4ParseError('The file has no moov box (an incomplete or fragmented MP4)')
    return parseMoov(moov, { size, brand, fastStart })
  } finally {
    await handle.close()
  }
}

function parseMoov(
  buffer: Buffer,
  file: { size: number; brand: string; fastStart: boolean },
): MP4Probe {
  const moov: Box = { type: 'moov', start: 8, end: buffer.length }
  if (buffer.readUInt32BE(0) === 1) moov.start = 16
  const mvhd = child(buffer, moov, 'mvhd')
  if (!mvhd) throw new MP4ParseError('The moov box has no mvhd')
  const movie = timing(buffer, mvhd)
  let durationSeconds = movie.timescale > 0 ? movie.duration / movie.timescale : 0
  const probe: MP4Probe = {
    container: file.brand === 'qt  ' ? 'quicktime' : 'mp4',
    durationSeconds,
    width: undefined,
    height: undefined,
    frameRate: undefined,
    bitRate: undefined,
    videoCodec: undefined,
    audioCodec: undefined,
    hasAudio: false,
    rotationDegrees: 0,
    fastStart: file.fastStart,
  }
  for (const trak of boxes(buffer, moov.start, moov.end)) {
    if (trak.type !== 'trak') continue
    const handler = path(buffer, trak, 'mdia', 'hdlr')
    const kind = handler ? buffer.toString('latin1', handler.start + 8, handler.start + 12) : ''
    const stbl = path(buffer, trak, 'mdia', 'minf', 'stbl')
    const stsd = stbl && child(buffer, stbl, 'stsd')
    const entry = stsd && sampleEntry(buffer, stsd)
    if (kind === 'vide' && probe.videoCodec === undefined && entry && stbl) {
      probe.videoCodec = videoCodec(buffer, entry)
      probe.width = buffer.readUInt16BE(entry.start + 24)
      probe.height = buffer.readUInt16BE(entry.start + 26)
      const tkhd = child(buffer, trak, 'tkhd')
      if (tkhd) probe.rotationDegrees = rotation(buffer, tkhd)
      const mdhd = path(buffer, trak, 'mdia', 'mdhd')
      const samples = sampleCount(buffer, stbl)
      if (mdhd && samples) {
        const track = timing(buffer, mdhd)
        const seconds = track.timescale > 0 ? track.duration / track.timescale : 0
        if (seconds > 0) {
          probe.frameRate = Math.round((samples / seconds) * 1000) / 1000
          if (durationSeconds === 0) durationSeconds = seconds
        }
      }
    } else if (kind === 'soun' && entry) {
      probe.hasAudio = true
      probe.audioCodec ??= audioCodec(buffer, entry)
    }
  }
  if (probe.videoCodec === undefined) throw new MP4ParseError('The file has no video track')
  probe.durationSeconds = Math.round(durationSeconds * 1000) / 1000
  probe.bitRate = durationSeconds > 0 ? Math.round((file.size * 8) / durationSeconds) : undefined
  return probe
}
