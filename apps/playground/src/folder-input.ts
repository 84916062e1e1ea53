/**
 * The files of a folder the user picked (`<input webkitdirectory>`) or dropped (DataTransfer
 * entries), keyed by their path inside that folder, and what kind of folder it is.
 */

export interface PickedFolder {
  name: string;
  files: Map<string, File>;
}

/** From an input's FileList: webkitRelativePath is "<folder>/<path inside>". */
export function folderFromFileList(list: FileList): PickedFolder {
  const files = new Map<string, File>();
  let name = 'folder';
  for (const file of Array.from(list)) {
    const [root, ...rest] = (file.webkitRelativePath || file.name).split('/');
    if (rest.length === 0) files.set(root!, file);
    else {
      name = root!;
      files.set(rest.join('/'), file);
    }
  }
  return { name, files };
}

/** From a drop: one dropped folder (walked recursively), or loose files. */
export async function folderFromDrop(items: DataTransferItemList): Promise<PickedFolder | undefined> {
  const entries = Array.from(items)
    .map((item) => item.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => e !== null);
  const dir = entries.length === 1 && entries[0]!.isDirectory ? (entries[0] as FileSystemDirectoryEntry) : undefined;
  if (!dir) return undefined;
  const files = new Map<string, File>();
  await walk(dir, '', files);
  return { name: dir.name, files };
}

async function walk(dir: FileSystemDirectoryEntry, prefix: string, into: Map<string, File>): Promise<void> {
  const reader = dir.createReader();
  // readEntries returns a batch at a time; an empty batch ends the listing
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const entry of batch) {
      if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, `${prefix}${entry.name}/`, into);
      else into.set(`${prefix}${entry.name}`, await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
    }
  }
}

export type FolderKind = 'export' | 'run' | 'unknown';

/** An `mllm export` folder has mllm.json; a finished run has report.md or metrics.jsonl. */
export function folderKind(folder: PickedFolder): FolderKind {
  if (folder.files.has('mllm.json')) return 'export';
  if (folder.files.has('report.md') || folder.files.has('metrics.jsonl')) return 'run';
  return 'unknown';
}
