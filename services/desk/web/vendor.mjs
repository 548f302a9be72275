// Copies the pinned browser assets (package-lock.json) into the service's static folder,
// so that the desk serves them itself: no CDN, and a wheel of the service carries them.
import { copyFileSync, mkdirSync } from "node:fs";

const target = "../src/cerniera/desk/web/static/vendor";
mkdirSync(target, { recursive: true });
copyFileSync("node_modules/chart.js/dist/chart.umd.js", `${target}/chart.umd.js`);
console.log(`chart.js copied into ${target}`);
