#!/usr/bin/env node
'use strict'

// `npx acs-identity emulator [--port 8990] [--host 127.0.0.1] [--data-dir DIR] [--https]
// [--access-key KEY] [--throttling]`: runs the ACS Identity emulator until Ctrl-C.

const HELP = `Usage: acs-identity emulator [options]

Runs a local emulator of the Azure Communication Services Identity service and prints the
connection string to use with CommunicationIdentityClient (ours or the official one).

Options:
  --port <n>          port to listen on (default 8990; 0 picks a free port)
  --host <address>    address to listen on (default 127.0.0.1)
  --data-dir <dir>    keep identities, custom ids, revocations and the signing key in a journal
                      file in <dir>, so they survive a restart (default: in memory)
  --https             serve TLS with a self-signed certificate; prints the certificate's path
                      (trust it with NODE_EXTRA_CA_CERTS=<path>)
  --access-key <key>  the base64 access key to accept (default: the documented development key)
  --throttling        answer 429 above the service's quotas (1000 requests/30 s for create and
                      issue, 500/30 s for revoke, delete and exchange)
  -h, --help          show this help
`

function parse(argv) {
  const options = { port: 8990 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${arg} needs a value`)
      return v
    }
    switch (arg) {
      case '--port': {
        const port = Number(value())
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be a whole number from 0 to 65535')
        options.port = port
        break
      }
      case '--host':
        options.host = value()
        break
      case '--data-dir':
        options.dataDir = value()
        break
      case '--access-key':
        options.accessKey = value()
        break
      case '--https':
        options.https = true
        break
      case '--throttling':
        options.throttling = true
        break
      case '-h':
      case '--help':
        options.help = true
        break
      default:
        throw new Error(`unknown option ${arg}`)
    }
  }
  return options
}

async function main() {
  const [command, ...rest] = process.argv.slice(2)
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP)
    return
  }
  if (command !== 'emulator') throw new Error(`unknown command ${command} (try: acs-identity emulator --help)`)
  const options = parse(rest)
  if (options.help) {
    process.stdout.write(HELP)
    return
  }
  // A server for many clients wants a worker per core (the addon's default of one suits a
  // client); read when the addon loads, so set before the require.
  process.env.ACS_IDENTITY_WORKER_THREADS ??= String(Math.max(2, require('node:os').availableParallelism()))
  const { startEmulator } = require('./index.js')
  const emulator = await startEmulator(options)
  console.log(`ACS Identity emulator listening on ${emulator.endpoint}`)
  console.log(`Connection string: ${emulator.connectionString}`)
  if (emulator.certificatePath) console.log(`Certificate: ${emulator.certificatePath} (NODE_EXTRA_CA_CERTS=${emulator.certificatePath})`)
  // The server runs on the addon's own threads, which do not keep Node's event loop alive.
  const keepAlive = setInterval(() => {}, 1 << 30)
  const stop = async () => {
    clearInterval(keepAlive)
    await emulator.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((error) => {
  console.error(`acs-identity: ${error.message}`)
  process.exit(2)
})
