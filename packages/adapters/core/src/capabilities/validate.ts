import type { ContentIssue, MediaDescription, PostContent } from '../contract/post.ts'
import type { Capabilities, MediaKindLimits, MediaLayout } from './capabilities.ts'
import { countTextLength } from './length.ts'

/**
 * Checks a post against a platform's capabilities: text length (counted the platform's way),
 * media kinds, types, sizes, dimensions, aspect ratios, durations and combinations, thread and
 * first comment, and the options schema. Pure and synchronous; returns every issue found, each
 * with the path to the offending value. Adapters call it from `validatePost` and add their own
 * platform rules.
 *
 * @example
 * ```ts
 * const issues = validatePostContent({ text: 'Hello', media: [] }, sandboxCapabilities)
 * if (issues.length > 0) showIssues(issues)
 * ```
 */
export function validatePostContent(post: PostContent, capabilities: Capabilities): ContentIssue[] {
  const issues: ContentIssue[] = []
  const name = capabilities.displayName
  const media = post.media ?? []
  const { text } = capabilities

  const length = countTextLength(post.text, text.counting)
  if (post.text.trim() === '' && (text.required || media.length === 0)) {
    const what = text.required ? 'text' : 'text or media'
    issues.push(issue(['text'], 'TEXT_REQUIRED', `${name} posts need ${what}.`))
  } else if (length > text.maxLength) {
    issues.push(
      issue(
        ['text'],
        'TEXT_TOO_LONG',
        `The text is ${length} characters long; ${name} allows ${text.maxLength}.`,
      ),
    )
  }

  if (media.length === 0 && capabilities.media.required) {
    issues.push(issue(['media'], 'MEDIA_REQUIRED', `${name} posts need a photo or a video.`))
  }
  media.forEach((item, index) => {
    const limits = capabilities.media.kinds[item.kind]
    if (!limits) {
      issues.push(
        issue(
          ['media', index, 'kind'],
          'MEDIA_KIND_UNSUPPORTED',
          `${name} does not accept ${item.kind} files.`,
        ),
      )
      return
    }
    issues.push(...checkMediaLimits(item, limits, ['media', index], name))
  })
  if (media.length > 0 && !media.some((item) => !capabilities.media.kinds[item.kind])) {
    if (!capabilities.media.layouts.some((layout) => fitsLayout(media, layout))) {
      issues.push(
        issue(
          ['media'],
          'MEDIA_COMBINATION_UNSUPPORTED',
          `${name} does not accept ${describeMedia(media)} in one post; it accepts ${capabilities.media.layouts
            .map(describeLayout)
            .join(', or ')}.`,
        ),
      )
    }
  }

  if (post.thread && post.thread.length > 0) {
    const thread = capabilities.thread
    if (!thread) {
      issues.push(issue(['thread'], 'THREAD_UNSUPPORTED', `${name} does not support threads.`))
    } else {
      if (post.thread.length + 1 > thread.maxPosts) {
        issues.push(
          issue(
            ['thread'],
            'THREAD_TOO_LONG',
            `The thread has ${post.thread.length + 1} posts; ${name} allows ${thread.maxPosts}.`,
          ),
        )
      }
      post.thread.forEach((part, index) => {
        const partLength = countTextLength(part.text, text.counting)
        if (partLength > thread.maxLength) {
          issues.push(
            issue(
              ['thread', index, 'text'],
              'TEXT_TOO_LONG',
              `Post ${index + 2} of the thread is ${partLength} characters long; ${name} allows ${thread.maxLength}.`,
            ),
          )
        }
      })
    }
  }

  if (post.firstComment !== undefined && post.firstComment !== '') {
    const firstComment = capabilities.firstComment
    if (!firstComment) {
      issues.push(
        issue(
          ['firstComment'],
          'FIRST_COMMENT_UNSUPPORTED',
          `${name} does not support a first comment.`,
        ),
      )
    } else {
      const commentLength = countTextLength(post.firstComment, text.counting)
      if (commentLength > firstComment.maxLength) {
        issues.push(
          issue(
            ['firstComment'],
            'FIRST_COMMENT_TOO_LONG',
            `The first comment is ${commentLength} characters long; ${name} allows ${firstComment.maxLength}.`,
          ),
        )
      }
    }
  }

  const options = capabilities.optionsSchema.safeParse(post.options ?? {})
  if (!options.success) {
    for (const problem of options.error.issues) {
      issues.push(
        issue(
          ['options', ...problem.path.map((key) => (typeof key === 'number' ? key : String(key)))],
          'OPTIONS_INVALID',
          problem.message,
        ),
      )
    }
  }
  return issues
}

function checkMediaLimits(
  item: MediaDescription,
  limits: MediaKindLimits,
  path: (string | number)[],
  name: string,
): ContentIssue[] {
  const issues: ContentIssue[] = []
  if (!limits.mimeTypes.includes(item.mimeType)) {
    issues.push(
      issue(
        [...path, 'mimeType'],
        'MEDIA_TYPE_UNSUPPORTED',
        `${name} does not accept ${item.mimeType}; use ${limits.mimeTypes.join(', ')}.`,
      ),
    )
  }
  if (limits.maxSizeBytes !== undefined && item.sizeBytes > limits.maxSizeBytes) {
    issues.push(
      issue(
        [...path, 'sizeBytes'],
        'MEDIA_TOO_LARGE',
        `The ${item.kind} is ${formatBytes(item.sizeBytes)}; ${name} accepts up to ${formatBytes(limits.maxSizeBytes)}.`,
      ),
    )
  }
  const outOf = (value: number | undefined, min: number | undefined, max: number | undefined) =>
    value !== undefined &&
    ((min !== undefined && value < min) || (max !== undefined && value > max))
  const bounds = (min: number | undefined, max: number | undefined, unit: string) =>
    [
      min === undefined ? '' : `at least ${min}${unit}`,
      max === undefined ? '' : `at most ${max}${unit}`,
    ]
      .filter(Boolean)
      .join(' and ')
  if (outOf(item.width, limits.minWidth, limits.maxWidth)) {
    issues.push(
      issue(
        [...path, 'width'],
        'MEDIA_DIMENSIONS_OUT_OF_RANGE',
        `The ${item.kind} is ${item.width} px wide; ${name} needs ${bounds(limits.minWidth, limits.maxWidth, ' px')}.`,
      ),
    )
  }
  if (outOf(item.height, limits.minHeight, limits.maxHeight)) {
    issues.push(
      issue(
        [...path, 'height'],
        'MEDIA_DIMENSIONS_OUT_OF_RANGE',
        `The ${item.kind} is ${item.height} px high; ${name} needs ${bounds(limits.minHeight, limits.maxHeight, ' px')}.`,
      ),
    )
  }
  if (limits.aspectRatio && item.width && item.height) {
    const ratio = item.width / item.height
    if (ratio < limits.aspectRatio.min || ratio > limits.aspectRatio.max) {
      issues.push(
        issue(
          [...path, 'aspectRatio'],
          'MEDIA_ASPECT_RATIO_OUT_OF_RANGE',
          `The ${item.kind} is ${item.width}×${item.height} (ratio ${ratio.toFixed(2)}); ${name} accepts ratios from ${limits.aspectRatio.min} to ${limits.aspectRatio.max}.`,
        ),
      )
    }
  }
  if (outOf(item.durationSeconds, limits.minDurationSeconds, limits.maxDurationSeconds)) {
    issues.push(
      issue(
        [...path, 'durationSeconds'],
        'MEDIA_DURATION_OUT_OF_RANGE',
        `The ${item.kind} lasts ${item.durationSeconds} s; ${name} needs ${bounds(limits.minDurationSeconds, limits.maxDurationSeconds, ' s')}.`,
      ),
    )
  }
  return issues
}

function fitsLayout(media: MediaDescription[], layout: MediaLayout): boolean {
  return (
    media.length >= layout.min &&
    media.length <= layout.max &&
    media.every((item) => layout.kinds.includes(item.kind))
  )
}

function describeLayout(layout: MediaLayout): string {
  const count = layout.min === layout.max ? `${layout.max}` : `${layout.min} to ${layout.max}`
  return `${count} ${layout.kinds.join(' or ')} file${layout.max === 1 ? '' : 's'}`
}

function describeMedia(media: MediaDescription[]): string {
  const counts = new Map<string, number>()
  for (const item of media) counts.set(item.kind, (counts.get(item.kind) ?? 0) + 1)
  return [...counts]
    .map(([kind, count]) => `${count} ${kind}${count === 1 ? '' : 's'}`)
    .join(' and ')
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`
  if (bytes >= 1024) return `${Math.ceil(bytes / 1024)} KB`
  return `${bytes} bytes`
}

function issue(path: (string | number)[], code: string, message: string): ContentIssue {
  return { path, code, message }
}
