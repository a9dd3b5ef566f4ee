// publishing/engine.ts still imports the publishing media from here; it moves to
// `./publishing.ts` when the engine is split (issue 18). Nothing else should import this file.
export { loadPublishMedia } from './publishing.ts'
