// The client inside worker threads (vitest's default pool, piscina, ...): each thread has its
// own Node environment, so the addon's per-environment state (the queue that settles promises,
// see src/settle.rs) must work in several at once and survive one being torn down mid-call.

import test from 'ava'
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const ours = require('../index.js')
const INDEX = fileURLToPath(new URL('../index.js', import.meta.url))

// In the worker: 50 concurrent createUser, a token, a 401; then, if asked, 50 more calls once
// the parent says so, left in flight when the parent terminates the worker.
const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads')
  const { CommunicationIdentityClient } = require(workerData.index)
  const client = new CommunicationIdentityClient(workerData.connectionString)
  ;(async () => {
    const users = await Promise.all(Array.from({ length: 50 }, () => client.createUser()))
    const token = await client.getToken(users[0], ['chat'])
    const error = await client.getToken({ communicationUserId: '8:acs:unknown_x' }, ['chat']).catch((e) => e)
    parentPort.postMessage({ users: new Set(users.map((u) => u.communicationUserId)).size, token: typeof token.token, error: [error.name, error.statusCode] })
    if (workerData.leaveInFlight) {
      parentPort.once('message', () => {
        for (let i = 0; i < 50; i++) client.createUser().catch(() => {})
        parentPort.postMessage('in flight')
      })
    }
  })()
`

/** Runs WORKER; with `beforeInFlight`, calls it, then has the worker start calls and terminates it. */
function runWorker(connectionString, beforeInFlight) {
  return new Promise((resolve, reject) => {
    const leaveInFlight = beforeInFlight !== undefined
    const worker = new Worker(WORKER, { eval: true, workerData: { index: INDEX, connectionString, leaveInFlight } })
    const messages = []
    worker.on('message', (message) => {
      messages.push(message)
      if (message === 'in flight') worker.terminate()
      else if (leaveInFlight) {
        beforeInFlight()
        worker.postMessage('go')
      }
    })
    worker.on('error', reject)
    worker.on('exit', (code) => resolve({ code, messages }))
  })
}

const EXPECTED = { users: 50, token: 'string', error: ['RestError', 401] }

test('calls settle in worker threads, two at once, and the workers exit on their own', async (t) => {
  const emulator = await ours.startEmulator()
  t.teardown(() => emulator.close())
  const runs = await Promise.all([runWorker(emulator.connectionString), runWorker(emulator.connectionString)])
  for (const run of runs) {
    t.is(run.code, 0)
    t.deepEqual(run.messages, [EXPECTED])
  }
})

test('terminating a worker with calls in flight leaves the process and other threads working', async (t) => {
  const emulator = await ours.startEmulator()
  t.teardown(() => emulator.close())
  // The calls left in flight answer 200 ms later, after the worker's environment is gone.
  const run = await runWorker(emulator.connectionString, () => emulator.injectFaults({ count: 50, delayMs: 200 }))
  t.is(run.code, 1, 'terminated')
  t.deepEqual(run.messages, [EXPECTED, 'in flight'])
  await new Promise((resolve) => setTimeout(resolve, 300))
  emulator.clearFaults()
  const client = new ours.CommunicationIdentityClient(emulator.connectionString)
  t.regex((await client.createUser()).communicationUserId, /^8:acs:/)
  t.deepEqual((await runWorker(emulator.connectionString)).messages, [EXPECTED])
})
