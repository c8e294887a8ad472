// A real Segment client against the local Worker: @segment/analytics-node, unmodified, with `host` pointed at
// the Worker. Sends page (anonymous), identify, group, track (Order Completed with revenue), then closeAndFlush.
// Env: DAYTWO_HOST (http://127.0.0.1:P), DAYTWO_WRITE_KEY. Prints {"statuses":[...],"errors":[...]} as JSON and
// exits 1 if any request failed or none was sent. Run by segment_client.rs with the project's Node 22.
import { Analytics } from '@segment/analytics-node'

const host = process.env.DAYTWO_HOST
const writeKey = process.env.DAYTWO_WRITE_KEY
if (!host || !writeKey) {
  console.error('DAYTWO_HOST and DAYTWO_WRITE_KEY are required')
  process.exit(2)
}

const analytics = new Analytics({
  writeKey,
  host,
  path: '/v1/batch',
  flushAt: 2,
  maxEventsInBatch: 2,
  flushInterval: 500,
  httpRequestTimeout: 15000,
  maxRetries: 2,
})
const statuses = []
const errors = []
analytics.on('http_response', (r) => statuses.push(r.status))
analytics.on('error', (e) => errors.push(String(e?.reason?.message ?? e?.code ?? e)))

const anonymousId = 'sdk-anon-1'
const userId = 'sdk-user-1'
const groupId = 'sdk-acme'
const at = (iso) => new Date(iso)

analytics.page({
  anonymousId,
  name: 'Pricing',
  properties: { path: '/pricing', url: 'https://shop.example/pricing' },
  timestamp: at('2026-10-12T08:55:00Z'),
})
analytics.identify({
  userId,
  anonymousId,
  traits: { email: 'sam.sdk@example.com', name: 'Sam SDK' },
  timestamp: at('2026-10-12T09:00:00Z'),
})
analytics.group({
  userId,
  groupId,
  traits: { name: 'Acme SDK Corp', plan: 'enterprise' },
  timestamp: at('2026-10-12T09:01:00Z'),
})
analytics.track({
  userId,
  event: 'Order Completed',
  properties: { order_id: 'sdk-o-1', revenue: 249.99, currency: 'USD' },
  timestamp: at('2026-10-12T09:05:00Z'),
})
analytics.page({
  userId,
  name: 'Docs',
  properties: { path: '/docs/getting-started' },
  timestamp: at('2026-10-12T09:10:00Z'),
})

await analytics.closeAndFlush({ timeout: 60000 })
console.log(JSON.stringify({ statuses, errors }))
process.exit(errors.length > 0 || statuses.length === 0 || statuses.some((s) => s !== 200) ? 1 : 0)
