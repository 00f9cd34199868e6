import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddressPattern } from '../../src/rules/address-pattern.js';

describe('parseAddressPattern: the address patterns of tag rules', () => {
  const cases: Array<[string, string, number, boolean]> = [
    ['*', '10.0.0.1', 1, true],
    ['*.*.*.*', 'anything', 1, true],
    ['10.0.0.1', '10.0.0.1', 20880, true],
    ['10.0.0.1', '10.0.0.2', 20880, false],
    ['10.0.0.1:20880', '10.0.0.1', 20880, true],
    ['10.0.0.1:20880', '10.0.0.1', 20881, false],
    ['10.0.*.*', '10.0.7.9', 1, true],
    ['10.0.*.*', '10.1.7.9', 1, false],
    ['10.0.0.10-19', '10.0.0.15', 1, true],
    ['10.0.0.10-19', '10.0.0.20', 1, false],
    ['10.0.0.10-19:7', '10.0.0.15', 8, false],
    ['10.0.*.*', 'localhost', 1, false],
    ['10.0.0.0/24', '10.0.0.255', 1, true],
    ['10.0.0.0/24', '10.0.1.0', 1, false],
    ['0.0.0.0/0', '192.168.1.1', 1, true],
    ['10.0.0.0/8', 'fd00::1', 1, false],
    ['fd00::/8', 'fd12:3456::1', 1, true],
    ['fd00::/16', 'fd01::1', 1, false],
    ['::ffff:10.0.0.0/120', '::ffff:10.0.0.7', 1, true],
    ['[::1]', '::1', 5, true],
    ['[::1]:5', '0:0:0:0:0:0:0:1', 5, true],
    ['[::1]:5', '::1', 6, false],
    ['::1', '::1', 6, true],
    ['0.0.0.0:20880', '10.9.9.9', 20880, true],
    ['0.0.0.0:20880', '10.9.9.9', 20881, false],
    ['0.0.0.0', '10.9.9.9', 20881, false],
    ['db-7.internal', 'db-7.internal', 1, true],
    ['db-7.internal:5432', 'db-7.internal', 5432, true],
    ['db-7.internal', '10.0.0.7', 1, false],
  ];
  for (const [pattern, host, port, expected] of cases) {
    it(`${pattern} ${expected ? 'names' : 'does not name'} ${host} port ${port}`, () => {
      assert.equal(parseAddressPattern(pattern)(host, port), expected);
    });
  }

  for (const [pattern, message] of [
    ['10.0.0', /four parts/],
    ['10.0.0.256', /"256" is not 0-255/],
    ['10.0.0.9-1', /"9-1" is not 0-255/],
    ['10.0.0.1:99999', /port must be a number from 0 to 65535/],
    ['10.0.0.0/8:80', /a CIDR block starts with an IP address|prefix length/],
    ['host/24', /a CIDR block starts with an IP address/],
    ['[::1', /no closing \]/],
    ['[::1]x', /expected :port after \]/],
    ['a b', /is not an address pattern/],
    ['', /is not an address pattern/],
  ] as Array<[string, RegExp]>) {
    it(`refuses ${JSON.stringify(pattern)}`, () => {
      assert.throws(() => parseAddressPattern(pattern), message);
    });
  }
});
