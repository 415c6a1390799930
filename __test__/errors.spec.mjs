// Errors: service answers become the same RestError as the official client's; arguments that
// cannot be sent are refused before any request with a TypeError/RangeError saying what is
// wrong; no message ever holds the access key.

import test from 'ava'
import util from 'node:util'
import { createRequire } from 'node:module'
import { startCaptureServer } from './helpers/capture-server.mjs'

const require = createRequire(import.meta.url)
const ours = require('../index.js')
const official = require('@azure/communication-identity')

const KEY = Buffer.from('a secret key nobody may see').toString('base64')
const USER = { communicationUserId: '8:acs:resource_user' }
const NO_RETRY = { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } }

function errorShape(error) {
  return {
    name: error.name,
    message: error.message,
    code: error.code,
    statusCode: error.statusCode,
    details: error.details,
  }
}

const serviceAnswers = {
  'ACS validation error': {
    status: 400,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { code: 'ValidationError', message: 'Invalid scopes - Scopes field is required.', target: 'scopes' } }),
  },
  'ACS error with inner error': {
    status: 409,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { code: 'Conflict', message: 'nope', innererror: { code: 'Inner', message: 'deeper' } } }),
  },
  'expiry out of range': {
    status: 400,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      error: { code: 'ValidationError', message: 'ExpiresInMinutes value 59 is invalid. Value must be within the [60, 1440] interval.', target: 'ExpiresInMinutes' },
    }),
  },
  'unauthorized with an ACS body': {
    status: 401,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { code: 'InvalidAccessToken', message: 'Provided access token is not valid.' } }),
  },
}

for (const [name, answer] of Object.entries(serviceAnswers)) {
  test(`service error "${name}" is the official RestError`, async (t) => {
    const server = await startCaptureServer(() => answer)
    t.teardown(() => server.close())
    const connection = `endpoint=${server.endpoint};accesskey=${KEY}`
    const mine = await t.throwsAsync(new ours.CommunicationIdentityClient(connection, NO_RETRY).getToken(USER, ['chat']))
    const theirs = await t.throwsAsync(new official.CommunicationIdentityClient(connection, NO_RETRY).getToken(USER, ['chat']))
    t.deepEqual(errorShape(mine), errorShape(theirs))
    t.true(ours.isRestError(mine))
    t.false(Object.keys(mine).includes('request'), 'request is not enumerable')
    t.false(Object.keys(mine).includes('response'), 'response is not enumerable')
  })
}

test('an empty error body is a RestError with the status and a useful message', async (t) => {
  const server = await startCaptureServer(() => ({ status: 401 }))
  t.teardown(() => server.close())
  const client = new ours.CommunicationIdentityClient(`endpoint=${server.endpoint};accesskey=${KEY}`, NO_RETRY)
  const error = await t.throwsAsync(client.deleteUser(USER))
  t.is(error.name, 'RestError')
  t.is(error.statusCode, 401)
  t.is(error.code, undefined)
  t.deepEqual(error.details, {})
  t.is(error.message, 'the service answered 401 Unauthorized')
})

test('a success status other than the declared one is an error', async (t) => {
  const server = await startCaptureServer(() => ({ status: 200, body: JSON.stringify({ identity: { id: 'x' } }) }))
  t.teardown(() => server.close())
  const client = new ours.CommunicationIdentityClient(`endpoint=${server.endpoint};accesskey=${KEY}`, NO_RETRY)
  const error = await t.throwsAsync(client.createUser())
  t.is(error.name, 'RestError')
  t.is(error.statusCode, 200)
  t.deepEqual(error.details, { identity: { id: 'x' } })
})

test('createUserAndToken([]) resolves with the user and no token, as the official client', async (t) => {
  const server = await startCaptureServer()
  t.teardown(() => server.close())
  const connection = `endpoint=${server.endpoint};accesskey=${KEY}`
  const mine = await new ours.CommunicationIdentityClient(connection).createUserAndToken([])
  const theirs = await new official.CommunicationIdentityClient(connection, { allowInsecureConnection: true }).createUserAndToken([])
  t.deepEqual(mine, theirs)
  t.deepEqual(Object.keys(mine), ['user'])
})

// Arguments that cannot be sent: refused before any request.
const badCalls = [
  ['getToken without a user', (c) => c.getToken(undefined, ['chat']), TypeError, /user must be a CommunicationUserIdentifier/],
  ['getToken with a user lacking communicationUserId', (c) => c.getToken({}, ['chat']), TypeError, /communicationUserId must be a string/],
  ['getToken with a string user', (c) => c.getToken('8:acs:x', ['chat']), TypeError, /user must be/],
  ['getToken with a numeric id', (c) => c.getToken({ communicationUserId: 5 }, ['chat']), TypeError, /communicationUserId must be a string, got number 5/],
  ['getToken with an empty id', (c) => c.getToken({ communicationUserId: '' }, ['chat']), TypeError, /must not be empty/],
  ['getToken with scopes not an array', (c) => c.getToken(USER, 'chat'), TypeError, /scopes must be an array/],
  ['getToken with undefined scopes', (c) => c.getToken(USER), TypeError, /scopes must be an array/],
  ['getToken with a numeric scope', (c) => c.getToken(USER, [1]), TypeError, /scopes\[0\] must be a string/],
  ['getToken with a string expiry', (c) => c.getToken(USER, ['chat'], { tokenExpiresInMinutes: '60' }), TypeError, /tokenExpiresInMinutes must be a number/],
  ['getToken with a NaN expiry', (c) => c.getToken(USER, ['chat'], { tokenExpiresInMinutes: NaN }), RangeError, /whole number/],
  ['getToken with a fractional expiry', (c) => c.getToken(USER, ['chat'], { tokenExpiresInMinutes: 60.5 }), RangeError, /whole number/],
  ['createUserAndToken with scopes not an array', (c) => c.createUserAndToken(null), TypeError, /scopes must be an array/],
  ['createUserAndToken with an Infinity expiry', (c) => c.createUserAndToken(['chat'], { tokenExpiresInMinutes: Infinity }), RangeError, /whole number/],
  ['revokeTokens with null', (c) => c.revokeTokens(null), TypeError, /user must be/],
  ['deleteUser with an array', (c) => c.deleteUser([]), TypeError, /user must be/],
  ['createUser with options not an object', (c) => c.createUser('x'), TypeError, /options must be an object/],
  ['createUser with a numeric customId', (c) => c.createUser({ customId: 3 }), TypeError, /customId must be a string/],
  ['a timeout that is not a number', (c) => c.createUser({ requestOptions: { timeout: '5s' } }), TypeError, /timeout must be a number/],
  ['a negative timeout', (c) => c.createUser({ requestOptions: { timeout: -1 } }), RangeError, /non-negative/],
  ['an abortSignal that is not a signal', (c) => c.createUser({ abortSignal: {} }), TypeError, /abortSignal must be an AbortSignal/],
  ['a header name that cannot be sent', (c) => c.createUser({ requestOptions: { customHeaders: { 'bad name': 'x' } } }), TypeError, /invalid header name/],
  ['a header value that cannot be sent', (c) => c.createUser({ requestOptions: { customHeaders: { 'x-a': 'line\nbreak' } } }), TypeError, /cannot be sent/],
  ['getTokenForTeamsUser without options', (c) => c.getTokenForTeamsUser(), TypeError, /teamsUserAadToken, clientId, userObjectId/],
  ['getTokenForTeamsUser without clientId', (c) => c.getTokenForTeamsUser({ teamsUserAadToken: 't', userObjectId: 'u' }), TypeError, /clientId must be a string/],
  ['getTokenForTeamsUser with a numeric token', (c) => c.getTokenForTeamsUser({ teamsUserAadToken: 1, clientId: 'c', userObjectId: 'u' }), TypeError, /teamsUserAadToken must be a string/],
]

for (const [name, call, ErrorType, pattern] of badCalls) {
  test(`refused before sending: ${name}`, async (t) => {
    const server = await startCaptureServer()
    t.teardown(() => server.close())
    const client = new ours.CommunicationIdentityClient(`endpoint=${server.endpoint};accesskey=${KEY}`)
    const error = await t.throwsAsync(call(client))
    t.true(error instanceof ErrorType, `${error.name}: ${error.message}`)
    t.regex(error.message, pattern)
    t.is(server.requests.length, 0)
  })
}

const badConstructors = [
  ['no arguments', () => new ours.CommunicationIdentityClient(), TypeError, /connection string or an endpoint/],
  ['a number', () => new ours.CommunicationIdentityClient(42), TypeError, /must be a string/],
  ['a connection string without a key', () => new ours.CommunicationIdentityClient('endpoint=https://x.com'), TypeError, /invalid connection string/],
  ['garbage', () => new ours.CommunicationIdentityClient('Lorem ipsum dolor connection string'), TypeError, /invalid connection string/],
  ['keys in the wrong order', () => new ours.CommunicationIdentityClient(`accesskey=${KEY};endpoint=https://r.com`), TypeError, /invalid connection string/],
  ['an endpoint with a path', () => new ours.CommunicationIdentityClient(`endpoint=https://x.com/path;accesskey=${KEY}`), TypeError, /must not have a path/],
  ['an ftp endpoint', () => new ours.CommunicationIdentityClient(`endpoint=ftp://x.com;accesskey=${KEY}`), TypeError, /scheme/],
  ['a file URL with a key credential', () => new ours.CommunicationIdentityClient('file://banana/fofana.txt', { key: KEY }), TypeError, /invalid endpoint/],
  ['not a URL with a key credential', () => new ours.CommunicationIdentityClient('not a url', { key: KEY }), TypeError, /invalid endpoint/],
  ['plain http to a remote host', () => new ours.CommunicationIdentityClient(`endpoint=http://example.com;accesskey=${KEY}`), TypeError, /allowInsecureConnection/],
  ['a second argument that is a number', () => new ours.CommunicationIdentityClient(`endpoint=https://x.com;accesskey=${KEY}`, 5), TypeError, /KeyCredential, a TokenCredential or options/],
  ['retryOptions.maxRetries that is a string', () => new ours.CommunicationIdentityClient(`endpoint=https://x.com;accesskey=${KEY}`, { retryOptions: { maxRetries: '3' } }), TypeError, /maxRetries must be a number/],
  ['a negative maxRetries', () => new ours.CommunicationIdentityClient(`endpoint=https://x.com;accesskey=${KEY}`, { retryOptions: { maxRetries: -1 } }), TypeError, /maxRetries must be a whole number/],
  ['a non-string user agent prefix', () => new ours.CommunicationIdentityClient(`endpoint=https://x.com;accesskey=${KEY}`, { userAgentOptions: { userAgentPrefix: 1 } }), TypeError, /userAgentPrefix must be a string/],
]

for (const [name, construct, ErrorType, pattern] of badConstructors) {
  test(`constructor refuses ${name}`, (t) => {
    const error = t.throws(construct)
    t.true(error instanceof ErrorType, `${error.name}: ${error.message}`)
    t.regex(error.message, pattern)
    t.false(error.message.includes(KEY), 'the key is never in a message')
  })
}

test('the connection string forms the official client accepts are accepted', (t) => {
  for (const cs of [
    `endpoint=https://r.communication.azure.com/;accesskey=${KEY}`,
    `ENDPOINT=https://r.communication.azure.com;ACCESSKEY=${KEY}`,
    `endpoint=https://r.communication.azure.com:443/;accesskey=${KEY}`,
    `endpoint=http://localhost:8990;accesskey=${KEY}`,
  ]) {
    t.notThrows(() => new ours.CommunicationIdentityClient(cs), cs)
  }
})

test('secrets never show in util.inspect, JSON or error messages', async (t) => {
  const client = new ours.CommunicationIdentityClient(`endpoint=https://r.communication.azure.com;accesskey=${KEY}`)
  t.false(util.inspect(client, { showHidden: true, depth: 5 }).includes(KEY))
  const { credential } = ours.parseConnectionString(`endpoint=https://r.communication.azure.com;accesskey=${KEY}`)
  t.is(credential.key, KEY)
  t.false(util.inspect(credential, { showHidden: true, depth: 5 }).includes(KEY))
  t.false(JSON.stringify(credential).includes(KEY))
  const error = t.throws(() => ours.parseConnectionString(`garbage ${KEY}`))
  t.false(error.message.includes(KEY))
  t.false(util.inspect(error).includes(KEY))
})
