// Reliability: retries, Retry-After, dropped connections, timeouts and cancellation, each
// against a local server that misbehaves on purpose.

import test from 'ava'
import http from 'node:http'
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { startCaptureServer } from './helpers/capture-server.mjs'
import { verifyCapturedRequest } from './helpers/hmac.mjs'

const require = createRequire(import.meta.url)
const ours = require('../index.js')

const KEY = Buffer.from('reliability key').toString('base64')
const USER = { communicationUserId: '8:acs:resource_user' }
const FAST = { retryOptions: { retryDelayInMs: 10, maxRetryDelayInMs: 40 } }

function client(server, options = FAST) {
  return new ours.CommunicationIdentityClient(`endpoint=${server.endpoint};accesskey=${KEY}`, options)
}

/** A responder that answers the first `n` requests with `answer`, then normally. */
function failFirst(n, answer) {
  let seen = 0
  return () => (seen++ < n ? answer : undefined)
}

test('429 with Retry-After: 1 succeeds on the second attempt, at least a second later, signed afresh', async (t) => {
  const server = await startCaptureServer(failFirst(1, { status: 429, headers: { 'retry-after': '1' } }))
  t.teardown(() => server.close())
  const started = Date.now()
  const user = await client(server).createUser()
  t.truthy(user.communicationUserId)
  t.true(Date.now() - started >= 1000)
  t.is(server.requests.length, 2)
  const [first, second] = server.requests
  t.is(first.headers['x-ms-client-request-id'], second.headers['x-ms-client-request-id'], 'one request id per operation')
  t.not(first.headers['x-ms-date'], second.headers['x-ms-date'], 'each attempt is signed with a fresh date')
  t.true(verifyCapturedRequest(second, KEY).ok)
})

test('retry-after-ms is honoured exactly', async (t) => {
  const server = await startCaptureServer(failFirst(1, { status: 503, headers: { 'retry-after-ms': '300' } }))
  t.teardown(() => server.close())
  const started = Date.now()
  await client(server, { retryOptions: { retryDelayInMs: 5000 } }).createUser()
  const elapsed = Date.now() - started
  t.true(elapsed >= 300 && elapsed < 3000, `${elapsed} ms`)
})

test('three 503s then success succeeds', async (t) => {
  const server = await startCaptureServer(failFirst(3, { status: 503 }))
  t.teardown(() => server.close())
  await client(server).getToken(USER, ['chat'])
  t.is(server.requests.length, 4)
})

test('four 503s reject with status 503 after four attempts', async (t) => {
  const server = await startCaptureServer(failFirst(4, { status: 503 }))
  t.teardown(() => server.close())
  const error = await t.throwsAsync(client(server).getToken(USER, ['chat']))
  t.is(error.name, 'RestError')
  t.is(error.statusCode, 503)
  t.is(error.attempts, 4)
  t.regex(error.message, /after 4 attempts/)
  t.is(server.requests.length, 4)
})

test('a 429 without a hint is retried with backoff', async (t) => {
  const server = await startCaptureServer(failFirst(2, { status: 429 }))
  t.teardown(() => server.close())
  await client(server).createUser()
  t.is(server.requests.length, 3)
})

test('maxRetries: 0 makes one attempt', async (t) => {
  const server = await startCaptureServer(failFirst(1, { status: 500 }))
  t.teardown(() => server.close())
  const error = await t.throwsAsync(client(server, { retryOptions: { maxRetries: 0 } }).createUser())
  t.is(error.statusCode, 500)
  t.is(server.requests.length, 1)
})

for (const status of [400, 401, 403, 404, 409, 501, 505]) {
  test(`${status} is not retried`, async (t) => {
    const server = await startCaptureServer(() => ({ status, headers: { 'retry-after': '0' } }))
    t.teardown(() => server.close())
    const error = await t.throwsAsync(client(server).deleteUser(USER))
    t.is(error.statusCode, status)
    t.is(server.requests.length, 1)
  })
}

test('a reset connection is retried', async (t) => {
  const server = await startCaptureServer(failFirst(2, { destroy: true }))
  t.teardown(() => server.close())
  const user = await client(server).createUser()
  t.truthy(user.communicationUserId)
  t.is(server.requests.length, 3)
})

test('connection refused is retried, then a RestError REQUEST_SEND_ERROR with the attempt count', async (t) => {
  const server = await startCaptureServer()
  const endpoint = server.endpoint
  await server.close()
  const c = new ours.CommunicationIdentityClient(`endpoint=${endpoint};accesskey=${KEY}`, { retryOptions: { maxRetries: 2, retryDelayInMs: 5 } })
  const error = await t.throwsAsync(c.createUser())
  t.is(error.name, 'RestError')
  t.is(error.code, 'REQUEST_SEND_ERROR')
  t.is(error.attempts, 3)
})

/** A server that accepts requests and never answers. */
async function startSilentServer() {
  const sockets = new Set()
  const server = http.createServer(() => {})
  server.on('connection', (s) => sockets.add(s))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

test('requestOptions.timeout ends a silent attempt, which is retried, then rejects', async (t) => {
  const server = await startSilentServer()
  t.teardown(() => server.close())
  const started = Date.now()
  const error = await t.throwsAsync(
    client(server, { retryOptions: { maxRetries: 1, retryDelayInMs: 5 } }).createUser({ requestOptions: { timeout: 200 } }),
  )
  const elapsed = Date.now() - started
  t.is(error.name, 'RestError')
  t.is(error.code, 'ETIMEDOUT')
  t.is(error.attempts, 2)
  t.true(elapsed >= 400 && elapsed < 2000, `${elapsed} ms`)
})

/** Aborts `pending`, checks it rejects with an AbortError, and returns how long that took. */
async function abortAndTime(t, controller, pending) {
  const abortedAt = performance.now()
  controller.abort()
  const error = await t.throwsAsync(pending)
  t.is(error.name, 'AbortError')
  return { abortedAt, latency: performance.now() - abortedAt }
}

/**
 * Runs `abortOnce` five times and checks the aborts settle within a few milliseconds: the
 * median under 50 ms, every one under a second. One abort can be held up by a busy machine
 * (CI runs the test files side by side on two cores); an abort that waited for the response,
 * the retry or the timeout (30 s here) would be slow every time.
 */
async function abortsSettleQuickly(t, abortOnce) {
  const latencies = []
  for (let i = 0; i < 5; i++) latencies.push(await abortOnce())
  const sorted = [...latencies].sort((a, b) => a - b)
  const shown = latencies.map((l) => l.toFixed(1)).join(', ')
  t.true(sorted[2] < 50, `median ${sorted[2].toFixed(1)} ms after abort (${shown})`)
  t.true(sorted[4] < 1000, `slowest ${sorted[4].toFixed(1)} ms after abort (${shown})`)
}

test('abort mid-request settles within a few milliseconds with an AbortError', async (t) => {
  const server = await startSilentServer()
  t.teardown(() => server.close())
  const c = client(server)
  await abortsSettleQuickly(t, async () => {
    const controller = new AbortController()
    const pending = c.createUser({ abortSignal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 50))
    return (await abortAndTime(t, controller, pending)).latency
  })
})

test('abort during a retry wait settles within a few milliseconds', async (t) => {
  const server = await startCaptureServer(() => ({ status: 503, headers: { 'retry-after': '30' } }))
  t.teardown(() => server.close())
  const c = client(server)
  await abortsSettleQuickly(t, async () => {
    const controller = new AbortController()
    const sent = server.requests.length
    const pending = c.createUser({ abortSignal: controller.signal })
    while (server.requests.length === sent) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 50))
    return (await abortAndTime(t, controller, pending)).latency
  })
  t.is(server.requests.length, 5, 'one attempt per call: none retried after its abort')
})

test('an already-aborted signal rejects without sending anything', async (t) => {
  const server = await startCaptureServer()
  t.teardown(() => server.close())
  const error = await t.throwsAsync(client(server).createUser({ abortSignal: AbortSignal.abort() }))
  t.is(error.name, 'AbortError')
  t.is(server.requests.length, 0)
})

test('a signal aborted after the call settled changes nothing', async (t) => {
  const server = await startCaptureServer()
  t.teardown(() => server.close())
  const controller = new AbortController()
  const user = await client(server).createUser({ abortSignal: controller.signal })
  controller.abort()
  t.truthy(user.communicationUserId)
})

test('malformed success bodies become a RestError, never a hang or a crash', async (t) => {
  const bodies = ['not json', '{"identity":', '{"token":"t"}', '{"token":"t","expiresOn":"yesterday"}', '[]']
  for (const body of bodies) {
    const server = await startCaptureServer(() => ({ status: 200, body }))
    const error = await t.throwsAsync(client(server).getToken(USER, ['chat']))
    t.is(error.name, 'RestError', body)
    t.is(error.code, 'PARSE_ERROR', body)
    await server.close()
  }
})

test('an oversized response body is refused', async (t) => {
  const server = await startCaptureServer(() => ({ status: 200, body: JSON.stringify({ token: 'x'.repeat(2 << 20), expiresOn: '2030-01-01T00:00:00Z' }) }))
  t.teardown(() => server.close())
  const error = await t.throwsAsync(client(server).getToken(USER, ['chat']))
  t.is(error.name, 'RestError')
  t.regex(error.message, /larger than 1048576 bytes/)
})

test('AZURE_LOG_LEVEL=info logs each attempt to stderr with no secret in it', async (t) => {
  const server = await startCaptureServer(failFirst(1, { status: 503 }))
  t.teardown(() => server.close())
  const script = `
    const { CommunicationIdentityClient } = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
    const c = new CommunicationIdentityClient(process.argv[1], { retryOptions: { retryDelayInMs: 5 } })
    c.createUserAndToken(['chat']).then((r) => console.log(r.token))
  `
  const connection = `endpoint=${server.endpoint};accesskey=${KEY}`
  const run = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script, connection], { env: { ...process.env, AZURE_LOG_LEVEL: 'info' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
  t.is(run.status, 0, run.stderr)
  const token = run.stdout.trim()
  t.truthy(token)
  t.regex(run.stderr, /azure:acs-identity:warning POST http:\/\/127\.0\.0\.1:\d+\/identities\?api-version=2023-10-01 attempt 1: status 503/)
  t.regex(run.stderr, /azure:acs-identity:info POST .* attempt 2: status 201 in \d+ ms \(x-ms-client-request-id [0-9a-f-]{36}\)/)
  for (const secret of [KEY, token, server.requests[0].headers.authorization.split('Signature=')[1]]) {
    t.false(run.stderr.includes(secret))
  }
})

test('an aborted request closes its connection: nothing is left running', async (t) => {
  const closed = []
  const server = http.createServer(() => {})
  server.on('connection', (socket) => socket.on('close', () => closed.push(performance.now())))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const c = new ours.CommunicationIdentityClient(`endpoint=http://127.0.0.1:${server.address().port};accesskey=${KEY}`)
  const controller = new AbortController()
  const pending = c.createUser({ abortSignal: controller.signal })
  await new Promise((resolve) => setTimeout(resolve, 100))
  // How quickly an abort settles is measured above; this test is about the connection.
  const { abortedAt } = await abortAndTime(t, controller, pending)
  while (closed.length === 0 && performance.now() - abortedAt < 5000) await new Promise((resolve) => setTimeout(resolve, 5))
  t.is(closed.length, 1, 'the server saw the connection close')
  // Well before the 30 s timeout that would otherwise end the attempt.
  t.true(closed[0] - abortedAt < 1000, `closed ${(closed[0] - abortedAt).toFixed(1)} ms after abort`)
})

test('HTTP_PROXY is honoured and NO_PROXY bypasses it', async (t) => {
  const seen = []
  const proxy = await startCaptureServer((req) => {
    seen.push(req.url)
    return { status: 201, body: JSON.stringify({ identity: { id: '8:acs:via_proxy' } }) }
  })
  t.teardown(() => proxy.close())
  const script = `
    const { CommunicationIdentityClient } = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
    new CommunicationIdentityClient('endpoint=http://acs.example.test;accesskey=a2V5', { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } })
      .createUser({ requestOptions: { timeout: 3000 } })
      .then((u) => console.log(u.communicationUserId), (e) => { console.log('error', e.code); })
  `
  const runWith = (env) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, HTTP_PROXY: proxy.endpoint, http_proxy: proxy.endpoint, NO_PROXY: '', no_proxy: '', ...env } })
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.on('close', () => resolve(out.trim()))
    })
  t.is(await runWith({}), '8:acs:via_proxy')
  t.deepEqual(seen, ['http://acs.example.test/identities?api-version=2023-10-01'])
  t.is(await runWith({ NO_PROXY: 'acs.example.test', no_proxy: 'acs.example.test' }), 'error REQUEST_SEND_ERROR')
  t.is(seen.length, 1, 'the proxy was bypassed')
})

test('a token credential that never answers is bounded by the timeout', async (t) => {
  const server = await startCaptureServer()
  t.teardown(() => server.close())
  const never = new Promise(() => {}) // kept referenced, so it is never collected
  const c = new ours.CommunicationIdentityClient(server.endpoint, { getToken: () => never })
  const started = Date.now()
  const error = await t.throwsAsync(c.createUser({ requestOptions: { timeout: 300 } }))
  t.true(Date.now() - started < 3000)
  t.regex(error.message, /did not give a token within 300 ms/)
  t.is(server.requests.length, 0)
})

test('a pending call keeps Node alive until it settles', async (t) => {
  // Nothing but the pending call holds the event loop: the emulator runs on the addon's
  // threads, and the delay makes the answer come well after the script's last line.
  const script = `
    const { CommunicationIdentityClient, startEmulator } = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
    startEmulator().then((emulator) => {
      emulator.injectFaults({ count: 1, delayMs: 300 })
      new CommunicationIdentityClient(emulator.connectionString).createUser().then((u) => console.log('settled', u.communicationUserId.slice(0, 6)))
    })
  `
  const output = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script])
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('close', () => resolve(out.trim()))
  })
  t.is(output, 'settled 8:acs:')
})
