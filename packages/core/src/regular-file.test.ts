import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotRegularFileError, openRegularFile, readRegularFile } from './regular-file';

const dir = mkdtempSync(join(tmpdir(), 'regular-file-'));

// FIFOs, devices and sockets are POSIX; a blocking open would hang the test rather than fail it,
// so reaching the assertion at all is what shows the open does not block
describe.skipIf(process.platform === 'win32')('openRegularFile: user data is opened only when it is a regular file', () => {
  it('reads a regular file, and refuses one over maxBytes from its size', async () => {
    const file = join(dir, 'data.json');
    writeFileSync(file, '{"a": 1}');
    expect((await readRegularFile(file)).toString()).toBe('{"a": 1}');
    await expect(readRegularFile(file, { what: 'data file', maxBytes: 4 })).rejects.toThrow(`data file ${file} is 8 bytes, over the limit of 4`);
  });

  it('refuses a FIFO without waiting for a writer', async () => {
    const fifo = join(dir, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    const error = await openRegularFile(fifo, 'image file').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotRegularFileError);
    expect((error as Error).message).toBe(`image file ${fifo} is a FIFO (named pipe), not a regular file; pass the path of a regular file`);
  });

  it('refuses /dev/zero (a device that never ends), a folder and a socket, saying what each is', async () => {
    await expect(readRegularFile('/dev/zero')).rejects.toThrow('file /dev/zero is a character device, not a regular file');
    await expect(readRegularFile(dir)).rejects.toThrow(`file ${dir} is a folder, not a regular file`);
    const socket = join(dir, 'server.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      await expect(readRegularFile(socket)).rejects.toThrow(`file ${socket} is a socket, not a regular file`);
    } finally {
      server.close();
    }
  });

  it('passes a missing file on as the system error, for the caller to word', async () => {
    await expect(openRegularFile(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
