// The emulator as users start it: from the command line, with a data directory that survives
// a kill, and over HTTPS with its self-signed certificate trusted through NODE_EXTRA_CA_CERTS.

import test from 'ava'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const ours = require('../index.js')
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CLI = path.join(root, 'cli.js')

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acs-emulator-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Runs the CLI until it prints its connection string. */
function startCli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'emulator', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const onData = (chunk) => {
      output += chunk
      const match = /Connection string: (\S+)/.exec(output)
      if (match) resolve({ child, connectionString: match[1], output })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('exit', (code) => reject(new Error(`the CLI exited with ${code}: ${output}`)))
  })
}

function run(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

test('acs-identity emulator --help explains every flag', async (t) => {
  const { status, stdout } = await run([CLI, 'emulator', '--help'])
  t.is(status, 0)
  for (const flag of ['--port', '--host', '--data-dir', '--https', '--access-key', '--throttling']) t.true(stdout.includes(flag), flag)
})

test('the CLI refuses an unknown flag with a clear message', async (t) => {
  const { status, stderr } = await run([CLI, 'emulator', '--bogus'])
  t.is(status, 2)
  t.regex(stderr, /unknown option --bogus/)
})

test('every identity acknowledged survives a kill -9 and restart on the same data directory', async (t) => {
  const dataDir = tempDir(t)
  const first = await startCli(['--port', '0', '--data-dir', dataDir])
  const client = new ours.CommunicationIdentityClient(first.connectionString)
  const users = await Promise.all(Array.from({ length: 50 }, () => client.createUser()))
  const revoked = await client.createUserAndToken(['chat'])
  await client.revokeTokens(revoked.user)
  const deleted = await client.createUser()
  await client.deleteUser(deleted)
  first.child.kill('SIGKILL')
  await new Promise((resolve) => first.child.once('exit', resolve))

  const second = await startCli(['--port', '0', '--data-dir', dataDir])
  t.teardown(() => second.child.kill('SIGKILL'))
  const again = new ours.CommunicationIdentityClient(second.connectionString, { retryOptions: { maxRetries: 0 } })
  for (const user of users) {
    const { token } = await again.getToken(user, ['voip'])
    t.is(ours.decodeAccessToken(token).communicationUserId, user.communicationUserId)
  }
  const gone = await t.throwsAsync(again.getToken(deleted, ['chat']))
  t.is(gone.statusCode, 404)

  // The revocation and the signing key survived too: the old token is judged revoked.
  second.child.kill('SIGKILL')
  await new Promise((resolve) => second.child.once('exit', resolve))
  const inProcess = await ours.startEmulator({ dataDir })
  t.teardown(() => inProcess.close())
  t.deepEqual(await inProcess.verifyToken(revoked.token), { valid: false, reason: 'revoked' })
})

test('https: the official client and ours connect with NODE_EXTRA_CA_CERTS, by key and by TokenCredential', async (t) => {
  const emulator = await ours.startEmulator({ https: true, bearerTokens: ['entra-token-for-tests'] })
  t.teardown(() => emulator.close())
  t.true(emulator.endpoint.startsWith('https://'))
  t.true(fs.existsSync(emulator.certificatePath))
  const script = `
    const [, connectionString, which, endpoint] = process.argv
    const { CommunicationIdentityClient } = require(which === 'ours' ? ${JSON.stringify(path.join(root, 'index.js'))} : '@azure/communication-identity')
    const bearer = { getToken: async () => ({ token: 'entra-token-for-tests', expiresOnTimestamp: Date.now() + 3600000 }) }
    ;(async () => {
      const r = await new CommunicationIdentityClient(connectionString).createUserAndToken(['chat'])
      const viaToken = await new CommunicationIdentityClient(endpoint, bearer).getToken(r.user, ['voip'])
      console.log(r.user.communicationUserId, typeof viaToken.token)
    })().catch((e) => { console.error(e.message); process.exit(1) })
  `
  for (const which of ['ours', 'official']) {
    const result = await run(['-e', script, emulator.connectionString, which, emulator.endpoint], {
      NODE_EXTRA_CA_CERTS: emulator.certificatePath,
      NODE_PATH: path.join(root, 'node_modules'),
    })
    t.is(result.status, 0, `${which}: ${result.stderr}`)
    t.regex(result.stdout.trim(), /^8:acs:\S+ string$/, which)
  }
  // Without trusting the certificate, the connection is refused.
  const untrusted = await run(['-e', script, emulator.connectionString, 'ours', emulator.endpoint], { NODE_EXTRA_CA_CERTS: '', NODE_PATH: path.join(root, 'node_modules') })
  t.not(untrusted.status, 0)
  t.regex(untrusted.stderr, /certificate|connect/i)
})
