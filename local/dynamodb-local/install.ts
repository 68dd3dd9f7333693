/**
 * Fetches DynamoDB Local (the AWS jar, as shipped inside the npm package
 * amplify-dynamodb-simulator) into a git-ignored cache, checks it, and compiles the small launcher
 * that binds it to 127.0.0.1 and puts it behind the loopback guard (Host and Origin). Only the emulator folder is kept; the package's 300 MB of
 * dependencies are never installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
/** SHA-256 of DynamoDBLocal.jar in that package version. */
const JAR_SHA256 = '454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7';

/** Where the jar, its libraries and the compiled launcher are. */
export interface DynamoDBLocalInstall {
  readonly emulatorDir: string;
  readonly launcherDir: string;
}

/** The cache folder, at the repository root. */
export const CACHE_DIR = path.resolve(__dirname, '..', '..', '.cache', 'dynamodb-local');

/** True when `java` and `javac` both run. */
export function hasJava(): boolean {
  return ['java', 'javac'].every((tool) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0);
}

/**
 * Makes sure DynamoDB Local and its loopback launcher are in the cache; downloads and compiles
 * them on first use. Throws with the reason if that is impossible (no Java, no registry).
 */
export function ensureDynamoDBLocal(cacheDir = CACHE_DIR): DynamoDBLocalInstall {
  const emulatorDir = path.join(cacheDir, 'emulator');
  // One folder per launcher source, so a changed launcher (its guard) is compiled again, never run stale.
  const launcherSource = path.join(__dirname, 'LoopbackDynamoDBLocal.java');
  const launcherDir = path.join(cacheDir, `launcher-${createHash('sha256').update(readFileSync(launcherSource)).digest('hex').slice(0, 16)}`);
  const jar = path.join(emulatorDir, 'DynamoDBLocal.jar');
  if (!existsSync(jar)) {
    const work = mkdtempSync(path.join(tmpdir(), 'dynamodb-local-'));
    try {
      const tarball = execFileSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', work], { cwd: work, encoding: 'utf8' }).trim().split('\n').pop()!;
      execFileSync('tar', ['xzf', path.join(work, tarball), '-C', work, 'package/emulator']);
      const digest = createHash('sha256')
        .update(readFileSync(path.join(work, 'package/emulator/DynamoDBLocal.jar')))
        .digest('hex');
      if (digest !== JAR_SHA256) throw new Error(`DynamoDBLocal.jar from ${PACKAGE} has SHA-256 ${digest}, expected ${JAR_SHA256}`);
      mkdirSync(cacheDir, { recursive: true });
      rmSync(emulatorDir, { recursive: true, force: true });
      renameSync(path.join(work, 'package/emulator'), emulatorDir);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  if (!existsSync(path.join(launcherDir, 'LoopbackDynamoDBLocal.class'))) {
    mkdirSync(launcherDir, { recursive: true });
    execFileSync('javac', ['-cp', `${jar}${path.delimiter}${path.join(emulatorDir, 'DynamoDBLocal_lib', '*')}`, '-d', launcherDir, launcherSource]);
  }
  return { emulatorDir, launcherDir };
}

if (require.main === module) {
  if (!hasJava()) {
    console.log('no Java on this machine: the local runtime will use dynalite instead of DynamoDB Local');
  } else {
    const install = ensureDynamoDBLocal();
    console.log(`DynamoDB Local ready in ${install.emulatorDir}`);
  }
}
