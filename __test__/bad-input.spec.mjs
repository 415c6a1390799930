// Bad input never crashes the process: every exported function and constructor, given wrong
// types, null, undefined, huge strings, odd Unicode, malformed ids, endpoints and connection
// strings, throws or rejects with a TypeError, RangeError or RestError that says what is
// wrong. Run against the emulator, so what is sent gets the service's answer.

import test from 'ava'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const ours = require('../index.js')

const HUGE = 'x'.repeat(1 << 20)
const ODD = ['\u0000', '\uD800', '\uFFFF', '😀', 'e\u0301', '\u202E', 'a\r\nb']

let emulator
let client
test.before(async () => {
  emulator = await ours.startEmulator()
  client = new ours.CommunicationIdentityClient(emulator.connectionString, { retryOptions: { maxRetries: 0 } })
})
test.after.always(() => emulator?.close())

const cases = [
  ['createUser(null options)', () => client.createUser(null)],
  ['createUser(42)', () => client.createUser(42)],
  ['createUser({ customId: "" })', () => client.createUser({ customId: '' })],
  ['createUser({ customId: huge })', () => client.createUser({ customId: HUGE })],
  ['createUserAndToken(undefined)', () => client.createUserAndToken(undefined)],
  ['createUserAndToken({})', () => client.createUserAndToken({})],
  ['createUserAndToken([null])', () => client.createUserAndToken([null])],
  ['createUserAndToken([huge])', () => client.createUserAndToken([HUGE])],
  ['createUserAndToken(["chat"], { tokenExpiresInMinutes: -1 })', () => client.createUserAndToken(['chat'], { tokenExpiresInMinutes: -1 })],
  ['createUserAndToken(["chat"], { tokenExpiresInMinutes: 2 ** 60 })', () => client.createUserAndToken(['chat'], { tokenExpiresInMinutes: 2 ** 60 })],
  ['getToken with a huge id', () => client.getToken({ communicationUserId: HUGE }, ['chat'])],
  ['getToken with an id of another resource', () => client.getToken({ communicationUserId: '8:acs:other_x' }, ['chat'])],
  ['getToken with a malformed id', () => client.getToken({ communicationUserId: 'not an id' }, ['chat'])],
  ['getToken with a symbol id', () => client.getToken({ communicationUserId: Symbol('x') }, ['chat'])],
  ['getToken with a BigInt expiry', () => client.getToken({ communicationUserId: '8:acs:x' }, ['chat'], { tokenExpiresInMinutes: 60n })],
  ['revokeTokens(undefined)', () => client.revokeTokens(undefined)],
  ['revokeTokens with a function', () => client.revokeTokens(() => {})],
  ['deleteUser with a Proxy that throws', () => client.deleteUser(new Proxy({}, { get: () => { throw new Error('boom') } }))],
  ['getTokenForTeamsUser(null)', () => client.getTokenForTeamsUser(null)],
  ['getTokenForTeamsUser with a huge token', () => client.getTokenForTeamsUser({ teamsUserAadToken: HUGE, clientId: 'c', userObjectId: 'u' })],
  ['getUserDetail({})', () => client.getUserDetail({})],
  ['customHeaders with a huge value', () => client.createUser({ requestOptions: { customHeaders: { 'x-big': HUGE } } })],
  ['customHeaders not an object', () => client.createUser({ requestOptions: { customHeaders: 'x' } })],
  ['new Client(null)', () => new ours.CommunicationIdentityClient(null)],
  ['new Client("")', () => new ours.CommunicationIdentityClient('')],
  ['new Client(huge)', () => new ours.CommunicationIdentityClient(HUGE)],
  ['new Client("endpoint=;accesskey=")', () => new ours.CommunicationIdentityClient('endpoint=;accesskey=')],
  ['new Client with an endpoint of spaces', () => new ours.CommunicationIdentityClient('endpoint=   ;accesskey=a2V5')],
  ['new Client with an IPv6 endpoint without brackets', () => new ours.CommunicationIdentityClient('endpoint=http://::1:80;accesskey=a2V5')],
  ['new Client with an endpoint with a query', () => new ours.CommunicationIdentityClient('endpoint=https://x.com/?a=b;accesskey=a2V5')],
  ['new Client(endpoint, { key: "" })', () => new ours.CommunicationIdentityClient('https://x.com', { key: '' })],
  ['new Client(endpoint, { key: 5 })', () => new ours.CommunicationIdentityClient('https://x.com', { key: 5 })],
  ['new Client(endpoint, { getToken: "no" })', () => new ours.CommunicationIdentityClient('https://x.com', { getToken: 'no' })],
  ['a token credential returning null', () => new ours.CommunicationIdentityClient(emulator.endpoint, { getToken: async () => null }).createUser()],
  ['a token credential returning garbage', () => new ours.CommunicationIdentityClient(emulator.endpoint, { getToken: async () => ({ token: 1 }) }).createUser()],
  ['a token credential throwing synchronously', () => new ours.CommunicationIdentityClient(emulator.endpoint, { getToken() { throw new TypeError('sync') } }).createUser()],
  ['parseConnectionString(undefined)', () => ours.parseConnectionString(undefined)],
  ['parseConnectionString(huge)', () => ours.parseConnectionString(HUGE)],
  ['decodeAccessToken(42)', () => ours.decodeAccessToken(42)],
  ['decodeAccessToken("a.b.c")', () => ours.decodeAccessToken('a.b.c')],
  ['decodeAccessToken(huge)', () => ours.decodeAccessToken(HUGE)],
  ['createIdentifierFromRawId(null)', () => ours.createIdentifierFromRawId(null)],
  ['getIdentifierRawId(null)', () => ours.getIdentifierRawId(null)],
  ['startEmulator({ port: 70000 })', () => ours.startEmulator({ port: 70000 })],
  ['startEmulator({ port: "x" })', () => ours.startEmulator({ port: 'x' })],
  ['startEmulator({ dataDir: "/proc/forbidden" })', () => ours.startEmulator({ dataDir: '/proc/forbidden/dir' })],
  ['injectFaults({})', () => emulator.injectFaults({})],
  ['injectFaults({ status: 42 })', () => emulator.injectFaults({ status: 42 })],
  ['verifyToken(undefined)', () => emulator.verifyToken(undefined)],
  ...ODD.map((s) => [`getToken with id ${JSON.stringify(s)}`, () => client.getToken({ communicationUserId: `8:acs:${s}` }, ['chat'])]),
  ...ODD.map((s) => [`new Client with endpoint containing ${JSON.stringify(s)}`, () => new ours.CommunicationIdentityClient(`endpoint=https://x${s}.com;accesskey=a2V5`, { retryOptions: { maxRetries: 0 } }).createUser({ requestOptions: { timeout: 1000 } })]),
]

for (const [name, call] of cases) {
  test(`never crashes: ${name}`, async (t) => {
    let error
    try {
      const value = call()
      if (value && typeof value.then === 'function') await value
    } catch (e) {
      error = e
    }
    // Some of these are legitimate (e.g. a weird but valid id the service answers); what
    // matters is that a failure is a clear, typed error.
    if (error === undefined) return t.pass()
    t.true(error instanceof TypeError || error instanceof RangeError || error.name === 'RestError' || error.message === 'boom', `${error.name}: ${error.message}`)
    t.true(typeof error.message === 'string' && error.message.length > 0 && error.message.length < 2000, 'a short message that says what is wrong')
    t.false(error.message.includes(emulator.accessKey))
    t.false(error.message.startsWith('ACS_ERROR:'), 'internal error encoding never leaks')
  })
}

test('the table covers at least 40 cases', (t) => {
  t.true(cases.length >= 40, `${cases.length}`)
})
