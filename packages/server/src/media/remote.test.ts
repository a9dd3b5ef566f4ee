import { describe, expect, it } from 'vitest'
import { fetchRemote, isAllowedAddress } from './remote.ts'

const none = { allowedNetworks: [] }

describe('isAllowedAddress', () => {
  it('allows public unicast addresses only', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) {
      expect(isAllowedAddress(address, none), address).toBe(true)
    }
    for (const address of [
      '127.0.0.1',
      '127.1.2.3',
      '10.0.0.1',
      '172.16.0.1',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '224.0.0.1',
      '192.0.2.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::7f00:1',
      '2002:7f00:1::',
      '2001::1',
      'not an address',
    ]) {
      expect(isAllowedAddress(address, none), address).toBe(false)
    }
  })

  it('allows the private networks the operator lists, and only those', () => {
    const policy = { allowedNetworks: ['10.1.0.0/16', 'fd12::/16'] }
    expect(isAllowedAddress('10.1.2.3', policy)).toBe(true)
    expect(isAllowedAddress('::ffff:10.1.2.3', policy)).toBe(true)
    expect(isAllowedAddress('fd12::5', policy)).toBe(true)
    expect(isAllowedAddress('10.2.0.1', policy)).toBe(false)
    expect(isAllowedAddress('127.0.0.1', policy)).toBe(false)
  })
})

describe('fetchRemote', () => {
  it('refuses what is not http(s), carries credentials, or names a refused address', async () => {
    const signal = AbortSignal.timeout(5000)
    for (const [url, reason] of [
      ['file:///etc/passwd', 'invalid_url'],
      ['gopher://example.com/', 'invalid_url'],
      ['http://user:secret@example.com/', 'invalid_url'],
      ['not a url', 'invalid_url'],
      ['http://017700000001/', 'address_not_allowed'],
      ['http://[0:0:0:0:0:ffff:7f00:1]/', 'address_not_allowed'],
      ['https://169.254.169.254./', 'address_not_allowed'],
    ] as const) {
      await expect(fetchRemote(url, none, signal), url).rejects.toMatchObject({ reason })
    }
  })
})
