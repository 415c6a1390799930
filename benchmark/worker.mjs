// One measurement in a fresh Node process: `node worker.mjs <client> <operation> <concurrency>
// <count> <connection string>`. Prints one JSON line: operations per second, latency
// percentiles, client CPU per operation, peak RSS, cold require time.
//
// With operation "soak" it runs <count> getToken calls and samples RSS and open file
// descriptors as it goes.

import fs from 'node:fs'
import { loadClient, OPERATIONS } from './clients.mjs'

const [kind, operationName, concurrencyText, countText, connectionString] = process.argv.slice(2)
const concurrency = Number(concurrencyText)
const count = Number(countText)

const { client, requireMs } = await loadClient(kind, connectionString)

function openFileDescriptors() {
  try {
    return fs.readdirSync('/proc/self/fd').length
  } catch {
    return -1
  }
}

// `onProgress` marks a soak: no latencies are kept, since an array of a million of them
// would itself show up as RSS growth (8 bytes a call).
async function runLoop(total, perCall, onProgress) {
  const latencies = onProgress ? undefined : new Float64Array(total)
  let next = 0
  let done = 0
  async function lane() {
    while (next < total) {
      const i = next++
      const started = performance.now()
      await perCall(i)
      if (latencies) latencies[i] = performance.now() - started
      done++
      if (onProgress && done % 50_000 === 0) onProgress(done)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane))
  return { seconds: (performance.now() - started) / 1000, latencies }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

if (operationName === 'soak') {
  const user = await client.createUser()
  const samples = []
  // A full GC before each sample (the soak runs with --expose-gc), so garbage not yet
  // collected is not counted as growth.
  const sample = (done) => {
    globalThis.gc?.()
    const memory = process.memoryUsage()
    samples.push({ done, rssMb: memory.rss / 2 ** 20, heapMb: memory.heapUsed / 2 ** 20, fds: openFileDescriptors() })
  }
  sample(0)
  const cpuBefore = process.cpuUsage()
  const { seconds } = await runLoop(count, () => client.getToken(user, ['voip']), sample)
  const cpu = process.cpuUsage(cpuBefore)
  sample(count)
  console.log(JSON.stringify({ kind, operation: 'soak', count, seconds, opsPerSecond: count / seconds, cpuMsPerOp: (cpu.user + cpu.system) / 1000 / count, samples }))
  process.exit(0)
}

const operation = OPERATIONS[operationName]
// Set-up is not measured: a shared user, or one user per call for deleteUser (made by the
// same client, so its connections are warm either way).
const sharedUser = operation.needsUser === 'shared' ? await client.createUser() : undefined
let users = []
if (operation.needsUser === 'each') {
  const made = await runLoop(count, () => client.createUser().then((u) => users.push(u)))
  void made
}
// Warm-up: a few calls so that connections and JIT are ready.
const warmup = Math.min(200, count)
if (operation.needsUser !== 'each') await runLoop(warmup, () => operation.run(client, sharedUser))

const cpuBefore = process.cpuUsage()
const { seconds, latencies } = await runLoop(count, (i) => operation.run(client, operation.needsUser === 'each' ? users[i] : sharedUser))
const cpu = process.cpuUsage(cpuBefore)
users = []
latencies.sort()
console.log(
  JSON.stringify({
    kind,
    operation: operationName,
    concurrency,
    count,
    opsPerSecond: count / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuMsPerOp: (cpu.user + cpu.system) / 1000 / count,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    requireMs,
  }),
)
process.exit(0)
