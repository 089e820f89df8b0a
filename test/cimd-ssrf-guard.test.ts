import { describe, expect, it } from 'vitest';
import { forbiddenAddressReason, parseIp } from '../runtime/auth/clients/cimd/ssrf-guard.js';

describe('forbiddenAddressReason', () => {
  it.each([
    '0.1.2.3',
    '10.255.255.255',
    '100.64.0.0',
    '100.127.255.255',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.170',
    '192.0.2.1',
    '192.168.0.1',
    '198.18.0.1',
    '198.19.255.255',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.251',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:a00:1',
    '::FFFF:169.254.169.254',
    '::127.0.0.1',
    '64:ff9b::10.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b:1::1',
    '2002:a00:1::1',
    '2002:7f00:1::',
    '2001:db8::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '100::1',
    'fc00::1',
    'FD12:3456::1',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'fec0::1',
    'ff02::1',
    '[::1]',
  ])('refuses %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeTypeOf('string');
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.169.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows the public address %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeUndefined();
  });

  it('refuses what is not an IP address at all', () => {
    expect(forbiddenAddressReason('example.com')).toBe('not a valid IP address');
    expect(forbiddenAddressReason('')).toBe('not a valid IP address');
    expect(forbiddenAddressReason('127.1')).toBe('not a valid IP address');
  });

  it('says why, naming the embedded address class for IPv4-mapped addresses', () => {
    expect(forbiddenAddressReason('169.254.169.254')).toContain('link-local');
    expect(forbiddenAddressReason('::ffff:10.0.0.1')).toMatch(/IPv4-mapped.*private/);
  });
});

describe('parseIp', () => {
  it('expands IPv6 shorthand and embedded dotted quads', () => {
    expect([...parseIp('::ffff:1.2.3.4')!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    expect([...parseIp('2001:db8::1')!]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect([...parseIp('1:2:3:4:5:6:7:8')!]).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    expect([...parseIp('10.0.0.1')!]).toEqual([10, 0, 0, 1]);
  });
});
