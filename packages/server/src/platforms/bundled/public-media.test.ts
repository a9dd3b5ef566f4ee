import { describe, expect, it } from 'vitest'
import { unreachablePublicURL } from './public-media.ts'

describe('unreachablePublicURL', () => {
  it.each([
    'http://127.0.0.1:3000',
    'http://localhost:3000',
    'http://[::1]:3000',
    'http://10.0.0.5',
    'http://192.168.1.20:8080',
    'http://scheduler.local',
    'http://scheduler',
  ])('says %s cannot be reached from the internet, naming PUBLIC_URL', (publicURL) => {
    expect(unreachablePublicURL(publicURL)).toMatch(/^PUBLIC_URL .* is not reachable/)
  })

  it.each(['https://scheduler.example.com', 'http://203.0.113.9.nip.io', 'https://8.8.8.8'])(
    'finds nothing wrong with %s',
    (publicURL) => {
      expect(unreachablePublicURL(publicURL)).toBeUndefined()
    },
  )
})
