// Runs AppsFlyer's published HTML5 CTV SDK (npm appsflyer-html5-ctv-sdk) in Node as a
// Samsung Tizen TV app would: the TV's APIs are stubbed with a TV's answers, and fetch is
// wrapped so that AppsFlyer's host (hard-coded in the SDK's endpoints.js) becomes the mock on
// loopback; any other URL is refused, so nothing leaves the machine.
//
// Usage: node html5_tizen.mjs SDK_DIR MOCK_ROOT APP_ID DEV_KEY
// Prints one JSON line per request: {"url", "status"}.
const [sdkDir, mockRoot, appId, devKey] = process.argv.slice(2);

const memory = new Map();
globalThis.window = globalThis;
globalThis.localStorage = {
  getItem: (key) => (memory.has(key) ? memory.get(key) : null),
  setItem: (key, value) => memory.set(key, String(value)),
  removeItem: (key) => memory.delete(key),
};
Object.defineProperty(globalThis.localStorage, 'appsflyer', {
  get: () => memory.get('appsflyer'), enumerable: true,
});
Object.defineProperty(globalThis, 'navigator', {configurable: true, value: {
  userAgent: 'Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.5) AppleWebKit/537.36 (KHTML, like Gecko) ' +
    '85.0.4183.93/6.5 TV Safari/537.36',
}});
globalThis.tizen = {
  application: {getCurrentApplication: () => ({appInfo: {version: '3.5.0'}})},
  systeminfo: {getCapability: () => '6.5'},
};
globalThis.webapis = {
  adinfo: {isLATEnabled: () => false, getTIFA: () => '3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c'},
  productinfo: {getModel: () => 'QN55Q80AAFXZA'},
};

const appsflyerHost = /^https:\/\/(sandbox-)?events\.appsflyer\.com\//;
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, options) => {
  if (!appsflyerHost.test(url)) throw new Error(`refused: ${url}`);
  const local = url.replace(appsflyerHost, `${mockRoot}/`);
  const response = await realFetch(local, options);
  console.log(JSON.stringify({url: new URL(local).pathname, status: response.status}));
  return response;
};

const {default: AppsFlyerSDK} = await import(`${sdkDir}/src/AppsFlyerSDK.js`);
const config = {appId, devKey, isDebug: false, isSandbox: false};
const launch = async () => {
  const sdk = await AppsFlyerSDK(config);
  await sdk.start();
  return sdk;
};
const first = await launch(); // the install: first_open
await first.logEvent('af_purchase', {af_revenue: 4.99, af_currency: 'USD', title: 'Movie'});
await launch(); // a later launch: session
