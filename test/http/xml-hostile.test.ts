import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHttpClient, startHttpServer } from '../support/http.js';
import { argsBody, postXml, resultOf } from './xml-support.js';

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<args><a>&lol9;</a><b>1</b></args>`;

/** The same call, made over JSON and over XML, while and after the hostile requests: the server is still serving. */
async function stillServes(address: string, calc: ReturnType<typeof startHttpClient>['calc']): Promise<void> {
  assert.equal(await calc.add(2, 3), 5);
  const response = await postXml(address, '/demo.Calculator/add', argsBody([4, 5]));
  assert.equal(response.status, 200, response.text);
  assert.equal(resultOf(response), 9);
}

test('an XML bomb (billion laughs) is refused with INVALID_ARGUMENT before any entity expands, and the server goes on serving', async (t) => {
  const { address } = await startHttpServer(t);
  const { calc } = startHttpClient(t, address);
  const before = process.memoryUsage().heapUsed;
  const [refused] = await Promise.all([postXml(address, '/demo.Calculator/add', BILLION_LAUGHS), stillServes(address, calc)]);
  assert.equal(refused.status, 400);
  assert.match(refused.text, /<code>INVALID_ARGUMENT<\/code>/);
  assert.match(refused.text, /document type declaration \(DTD\) is not accepted/);
  // A billion "lol"s would be 3 GB: nothing near that was made.
  assert.ok(process.memoryUsage().heapUsed - before < 64 * 1024 * 1024);
  await stillServes(address, calc);
});

test('a DTD declaring an external entity is refused the same way, and nothing is fetched', async (t) => {
  const { address } = await startHttpServer(t);
  const response = await postXml(address, '/demo.Calculator/add', '<?xml version="1.0"?><!DOCTYPE args [<!ENTITY file SYSTEM "file:///etc/passwd">]><args><a>&file;</a></args>');
  assert.equal(response.status, 400);
  assert.match(response.text, /DTD\) is not accepted/);
  assert.doesNotMatch(response.text, /root:/);
});

test('a document nested 100000 elements deep is refused with INVALID_ARGUMENT without overflowing the stack, and the server goes on serving', async (t) => {
  const { address } = await startHttpServer(t);
  const { calc } = startHttpClient(t, address);
  const depth = 100_000;
  const deep = `<args>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</args>`;
  const [refused] = await Promise.all([postXml(address, '/demo.Calculator/add', deep), stillServes(address, calc)]);
  assert.equal(refused.status, 400, refused.text.slice(0, 300));
  assert.match(refused.text, /<code>INVALID_ARGUMENT<\/code>/);
  assert.match(refused.text, /nested deeper than 128 levels/);
  await stillServes(address, calc);
});

test('a typed array 100000 levels deep is refused the same way (the value reader never recurses past the parser limit)', async (t) => {
  const { address } = await startHttpServer(t, { query: 'maxBodyBytes=4194304' });
  const depth = 100_000;
  const deep = `<args xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sy="urn:switchyard">${'<item xsi:type="sy:array">'.repeat(depth)}${'</item>'.repeat(depth)}</args>`;
  const refused = await postXml(address, '/demo.Calculator/add', deep, { accept: 'application/json' });
  assert.equal(refused.status, 400);
  assert.match(refused.text, /"code":"INVALID_ARGUMENT"/);
});

test('an XML body over maxBodyBytes is refused with 413 before it is parsed; the server goes on serving', async (t) => {
  const { address } = await startHttpServer(t, { query: 'maxBodyBytes=4096' });
  const { calc } = startHttpClient(t, address);
  const big = `<args><a>${'x'.repeat(10_000)}</a></args>`;
  const refused = await postXml(address, '/demo.Calculator/add', big);
  assert.equal(refused.status, 413);
  assert.match(refused.text, /RESOURCE_EXHAUSTED/);
  await stillServes(address, calc);
});

test('malformed XML, unknown entities, two roots and characters XML cannot hold are INVALID_ARGUMENT', async (t) => {
  const { address } = await startHttpServer(t);
  const cases: Array<[string, RegExp]> = [
    ['<args><a>1</a>', /Unclosed root tag/],
    ['<args><a>1</b></args>', /Unexpected close tag/],
    ['<args><a>&bogus;</a></args>', /Invalid character entity/],
    ['<args><a>&#0;</a></args>', /Invalid character entity/],
    ['<args/><args/>', /one root element/],
    ['<args><a>\u0001</a></args>', /does not allow/],
    ['<args><a xsi:type="xsd:double">1</a></args>', /Unbound namespace prefix|not declared/],
    ['<!-- only a comment -->', /no root element/],
  ];
  for (const [body, message] of cases) {
    const response = await postXml(address, '/demo.Calculator/add', body);
    assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.text}`);
    assert.match(response.text, message, JSON.stringify(body));
  }
});
