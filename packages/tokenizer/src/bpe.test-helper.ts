/** Sentences in the Shapes world's style, with repeats, as a small deterministic BPE training corpus for tests. */
export function sentenceCorpus(): string[] {
  const colors = ['red', 'green', 'blue', 'yellow', 'purple'];
  const shapes = ['circle', 'square', 'triangle', 'cross'];
  const out: string[] = [];
  for (const c of colors) {
    for (const s of shapes) {
      out.push(`is there a ${c} ${s} in the image ?`, `the ${s} is ${c} .`, `<image>\nwhat color is the ${s} ?`);
    }
  }
  out.push('how many objects are there ?', 'describe the image .', 'yes', 'no', 'there are 3 objects .', 'there are 12 objects .');
  return out;
}
