import { isStoreOutage } from '../http/store-outage.js';
import type { Store } from '../store/store.js';
import type { GatewayMetrics } from './gateway-metrics.js';

/**
 * The store with every operation that failed for want of the store counted
 * (`mcp_gateway_store_errors_total`): the one place every caller's store error passes, whichever
 * endpoint then answers 503. Other errors (a bug, a bad value) are not the store's and are not
 * counted. Written out rather than a Proxy: the Store interface is small and stable, and a
 * Proxy would cost on every call, hits included.
 */
export function meteredStore(store: Store, metrics: Pick<GatewayMetrics, 'storeError'>): Store {
  const counted = <T>(pending: Promise<T>): Promise<T> =>
    pending.catch((err: unknown) => {
      if (isStoreOutage(err)) metrics.storeError();
      throw err;
    });
  return {
    get: (key) => counted(store.get(key)),
    set: (key, value, options) => counted(store.set(key, value, options)),
    setIfAbsent: (key, value, options) => counted(store.setIfAbsent(key, value, options)),
    take: (key) => counted(store.take(key)),
    delete: (key) => counted(store.delete(key)),
    keys: (prefix) => counted(store.keys(prefix)),
    addToSet: (key, member, options) => counted(store.addToSet(key, member, options)),
    removeFromSet: (key, member) => counted(store.removeFromSet(key, member)),
    setMembers: (key) => counted(store.setMembers(key)),
    rates: store.rates,
    ping: () => counted(store.ping()),
    close: () => store.close(),
  };
}
