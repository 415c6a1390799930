// The emulator held to the official @azure/communication-identity 1.3.1 client: every
// operation and every error case of docs/official-sdk.md §4.4, run with the official client
// and with ours on the same steps, comparing the results and errors.

import test from 'ava'
import { createRequire } from 'node:module'
import { entraToken, APP_ID, USER_OBJECT_ID } from './helpers/entra.mjs'

const require = createRequire(import.meta.url)
const ours = require('../index.js')
const official = require('@azure/communication-identity')

const NO_RETRY = { retryOptions: { maxRetries: 0 } }
const FOREIGN_USER = { communicationUserId: '8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000' }
const SCOPES = ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join']

let emulator
test.before(async () => {
  emulator = await ours.startEmulator()
})
test.after.always(async () => {
  await emulator?.close()
})

const clients = () => ({
  ours: new ours.CommunicationIdentityClient(emulator.connectionString, NO_RETRY),
  official: new official.CommunicationIdentityClient(emulator.connectionString, { ...NO_RETRY, allowInsecureConnection: true }),
})

function shape(value) {
  if (value instanceof Date) return 'Date'
  if (Array.isArray(value)) return value.map(shape)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]))
  return typeof value
}

const errorOf = (e) => ({ name: e.name, statusCode: e.statusCode, code: e.code, message: e.message, details: e.details })

for (const [name, client] of Object.entries({ ours: 0, official: 1 })) {
  void client
  test(`${name}: the quickstart flow, with tokens the emulator then judges`, async (t) => {
    const c = clients()[name]
    const user = await c.createUser()
    t.regex(user.communicationUserId, /^8:acs:[0-9a-f-]{36}_[0-9a-f-]{36}$/)
    const voip = await c.getToken(user, ['voip'])
    t.true(voip.expiresOn instanceof Date)
    const lifetime = voip.expiresOn.getTime() - Date.now()
    t.true(Math.abs(lifetime - 24 * 3600_000) < 60_000, 'the default lifetime is 24 hours')
    t.deepEqual(await emulator.verifyToken(voip.token), { valid: true })
    const claims = ours.decodeAccessToken(voip.token)
    t.is(claims.communicationUserId, user.communicationUserId)
    t.deepEqual(claims.scopes, ['voip'])
    t.is(Math.floor(claims.expiresOn.getTime() / 1000), Math.floor(voip.expiresOn.getTime() / 1000))

    const short = await c.getToken(user, ['chat'], { tokenExpiresInMinutes: 60 })
    t.true(Math.abs(short.expiresOn.getTime() - Date.now() - 3600_000) < 60_000)

    const both = await c.createUserAndToken(['voip'])
    t.deepEqual(Object.keys(both), ['token', 'expiresOn', 'user'])
    t.deepEqual(await emulator.verifyToken(both.token), { valid: true })

    await c.revokeTokens(user)
    t.deepEqual(await emulator.verifyToken(voip.token), { valid: false, reason: 'revoked' })
    const fresh = await c.getToken(user, ['voip'])
    t.deepEqual(await emulator.verifyToken(fresh.token), { valid: true }, 'tokens issued after a revoke are valid')

    await c.deleteUser(both.user)
    t.deepEqual(await emulator.verifyToken(both.token), { valid: false, reason: 'deleted' })
    await c.deleteUser(user)
  })
}

test('results of every operation have the same shape with both clients', async (t) => {
  const { ours: mine, official: theirs } = clients()
  const steps = [
    (c) => c.createUser(),
    (c) => c.createUserAndToken(['chat']),
    (c) => c.createUserAndToken(['chat', 'voip'], { tokenExpiresInMinutes: 1440 }),
    (c) => c.createUserAndToken([]),
    async (c) => c.getToken(await c.createUser(), SCOPES),
    async (c) => c.revokeTokens(await c.createUser()),
    async (c) => c.deleteUser(await c.createUser()),
    (c) => c.getTokenForTeamsUser({ teamsUserAadToken: entraToken(), clientId: APP_ID, userObjectId: USER_OBJECT_ID }),
  ]
  for (const step of steps) {
    t.deepEqual(shape(await step(mine)), shape(await step(theirs)))
  }
})

for (const scope of SCOPES) {
  test(`a token with scope ${scope} is issued to both clients`, async (t) => {
    for (const c of Object.values(clients())) {
      const { token, expiresOn, user } = await c.createUserAndToken([scope])
      t.true(typeof token === 'string' && expiresOn instanceof Date)
      t.deepEqual(ours.decodeAccessToken(token).scopes, [scope])
      t.is(ours.decodeAccessToken(token).communicationUserId, user.communicationUserId)
    }
  })
}

// The error cases of §4.4, each with both clients: same status, code, message and details.
const errorCases = {
  'issue without scopes (400)': (c, user) => c.getToken(user, []),
  'issue with an unknown scope (400)': (c, user) => c.getToken(user, ['pstn']),
  'issue with expiry 59 (400)': (c, user) => c.getToken(user, ['chat'], { tokenExpiresInMinutes: 59 }),
  'issue with expiry 1441 (400)': (c, user) => c.getToken(user, ['chat'], { tokenExpiresInMinutes: 1441 }),
  'create with expiry 59 (400)': (c) => c.createUserAndToken(['chat'], { tokenExpiresInMinutes: 59 }),
  'create with expiry 1441 (400)': (c) => c.createUserAndToken(['chat'], { tokenExpiresInMinutes: 1441 }),
  'issue for another resource’s identity (401)': (c) => c.getToken(FOREIGN_USER, ['chat']),
  'revoke for another resource’s identity (401)': (c) => c.revokeTokens(FOREIGN_USER),
  'delete another resource’s identity (401)': (c) => c.deleteUser(FOREIGN_USER),
  'Teams exchange with an empty token (401)': (c) => c.getTokenForTeamsUser({ teamsUserAadToken: '', clientId: APP_ID, userObjectId: USER_OBJECT_ID }),
  'Teams exchange with an invalid token (401)': (c) => c.getTokenForTeamsUser({ teamsUserAadToken: 'invalid', clientId: APP_ID, userObjectId: USER_OBJECT_ID }),
  'Teams exchange with an expired token (401)': (c) =>
    c.getTokenForTeamsUser({ teamsUserAadToken: entraToken({ exp: Math.floor(Date.now() / 1000) - 60 }), clientId: APP_ID, userObjectId: USER_OBJECT_ID }),
  'Teams exchange with an empty clientId (400)': (c) => c.getTokenForTeamsUser({ teamsUserAadToken: entraToken(), clientId: '', userObjectId: USER_OBJECT_ID }),
  'Teams exchange with an invalid clientId (400)': (c) => c.getTokenForTeamsUser({ teamsUserAadToken: entraToken(), clientId: 'invalid', userObjectId: USER_OBJECT_ID }),
  'Teams exchange with a wrong clientId (400)': (c) =>
    c.getTokenForTeamsUser({ teamsUserAadToken: entraToken(), clientId: '99999999-2222-3333-4444-555555555555', userObjectId: USER_OBJECT_ID }),
  'Teams exchange with an invalid userObjectId (400)': (c) => c.getTokenForTeamsUser({ teamsUserAadToken: entraToken(), clientId: APP_ID, userObjectId: 'invalid' }),
  'Teams exchange with a wrong userObjectId (400)': (c) =>
    c.getTokenForTeamsUser({ teamsUserAadToken: entraToken(), clientId: APP_ID, userObjectId: '99999999-7777-8888-9999-000000000000' }),
}

const expectedStatus = (name) => Number(/\((\d{3})\)$/.exec(name)[1])

for (const [name, call] of Object.entries(errorCases)) {
  test(`error case: ${name}`, async (t) => {
    const errors = []
    for (const c of Object.values(clients())) {
      const user = await c.createUser()
      errors.push(errorOf(await t.throwsAsync(call(c, user))))
    }
    const [mine, theirs] = errors
    t.is(theirs.name, 'RestError')
    t.is(theirs.statusCode, expectedStatus(name))
    t.deepEqual(mine, theirs)
  })
}

test('the service messages of §4.4 are the emulator’s', async (t) => {
  const c = clients().official
  const user = await c.createUser()
  const empty = await t.throwsAsync(c.getToken(user, []))
  t.is(empty.message, 'Invalid scopes - Scopes field is required.')
  t.is(empty.code, 'ValidationError')
  t.is(empty.details.error.target, 'scopes')
  const low = await t.throwsAsync(c.getToken(user, ['chat'], { tokenExpiresInMinutes: 59 }))
  t.is(low.message, 'ExpiresInMinutes value 59 is invalid. Value must be within the [60, 1440] interval.')
  const teams = await t.throwsAsync(c.getTokenForTeamsUser({ teamsUserAadToken: 'invalid', clientId: APP_ID, userObjectId: USER_OBJECT_ID }))
  t.is(teams.code, 'InvalidAccessToken')
  t.is(teams.message, 'Provided access token is not valid.')
})

test('a wrong access key is answered 401 to both clients', async (t) => {
  const wrong = emulator.connectionString.replace(/accesskey=.*/, `accesskey=${Buffer.from('wrong key').toString('base64')}`)
  const mine = await t.throwsAsync(new ours.CommunicationIdentityClient(wrong, NO_RETRY).createUser())
  const theirs = await t.throwsAsync(new official.CommunicationIdentityClient(wrong, { ...NO_RETRY, allowInsecureConnection: true }).createUser())
  t.is(theirs.statusCode, 401)
  t.deepEqual(errorOf(mine), errorOf(theirs))
})

test('the Teams exchange gives a token that expires with the Entra token', async (t) => {
  const exp = Math.floor(Date.now() / 1000) + 1800
  for (const c of Object.values(clients())) {
    const result = await c.getTokenForTeamsUser({ teamsUserAadToken: entraToken({ exp }), clientId: APP_ID, userObjectId: USER_OBJECT_ID })
    t.is(Math.floor(result.expiresOn.getTime() / 1000), exp)
  }
})

test('customId returns the same identity, and getUserDetail reports it (preview)', async (t) => {
  const c = clients().ours
  const customId = `alice-${Date.now()}@contoso.com`
  const first = await c.createUser({ customId })
  const second = await c.createUserAndToken(['chat'], { customId })
  t.is(second.user.communicationUserId, first.communicationUserId)
  const detail = await c.getUserDetail(first)
  t.deepEqual(detail.user, first)
  t.is(detail.customId, customId)
  t.true(detail.lastTokenIssuedAt instanceof Date)
  t.true(Math.abs(detail.lastTokenIssuedAt.getTime() - Date.now()) < 60_000)
})

test('verifyToken says malformed for what is not a token of the emulator', async (t) => {
  t.deepEqual(await emulator.verifyToken('not a token'), { valid: false, reason: 'malformed' })
})

test('injected faults: a 503 with Retry-After is retried, a dropped connection too', async (t) => {
  // An emulator of its own: faults apply to the next requests, whichever test sends them.
  const emulator = await ours.startEmulator()
  t.teardown(() => emulator.close())
  const c = new ours.CommunicationIdentityClient(emulator.connectionString, { retryOptions: { retryDelayInMs: 10 } })
  emulator.injectFaults({ count: 2, status: 503, retryAfter: '0' })
  t.truthy((await c.createUser()).communicationUserId)
  emulator.injectFaults({ count: 1, closeConnection: true })
  t.truthy((await c.createUser()).communicationUserId)
  emulator.injectFaults({ count: 1, status: 400 })
  const error = await t.throwsAsync(c.createUser())
  t.is(error.statusCode, 400)
  emulator.clearFaults()
})

test('the endpoint + AzureKeyCredential form works against the emulator for both clients', async (t) => {
  const { AzureKeyCredential } = require('@azure/core-auth')
  const mine = new ours.CommunicationIdentityClient(emulator.endpoint, new AzureKeyCredential(emulator.accessKey), NO_RETRY)
  const theirs = new official.CommunicationIdentityClient(emulator.endpoint, new AzureKeyCredential(emulator.accessKey), { ...NO_RETRY, allowInsecureConnection: true })
  const results = []
  for (const c of [mine, theirs]) {
    const { user, token } = await c.createUserAndToken(['chat'])
    t.deepEqual(await emulator.verifyToken(token), { valid: true })
    results.push(shape(await c.getToken(user, ['voip'])))
  }
  t.deepEqual(results[0], results[1])
})

// The official client refuses Bearer tokens over plain http even to loopback, so it is
// checked over https in emulator-process.spec.mjs; ours allows it to loopback only.
test('the endpoint + TokenCredential form authenticates with Bearer tokens the emulator accepts', async (t) => {
  const bearer = await ours.startEmulator({ bearerTokens: ['entra-token-for-tests'] })
  t.teardown(() => bearer.close())
  const credential = (token) => ({ getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) })
  const options = NO_RETRY
  for (const Client of [ours.CommunicationIdentityClient]) {
    const good = new Client(bearer.endpoint, credential('entra-token-for-tests'), options)
    const user = await good.createUser()
    t.truthy((await good.getToken(user, ['chat'])).token)
    const bad = new Client(bearer.endpoint, credential('some-other-token'), options)
    const error = await t.throwsAsync(bad.createUser())
    t.is(error.statusCode, 401)
  }
})
