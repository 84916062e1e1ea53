import { pieceMarks, type AnswerCheck } from './answer-check';
import type { GenerationResult } from './worker/protocol';

/**
 * The conversation as the page shows it. An answer streams in as spans, one per decoded piece
 * (`StreamedAnswer` of @mllm/run/browser: a word, or part of one under a byte-level BPE), with the spaces between them
 * as text; once it is done each piece gets its probability (shade and tooltip) and, for a Shapes
 * scene, its check mark. data-state and data-text are what the end-to-end test reads.
 */
export class AnswerView {
  readonly element = document.createElement('div');
  private readonly body = document.createElement('div');
  private readonly meta = document.createElement('div');
  private shown = '';

  constructor(messages: HTMLElement) {
    this.element.className = 'message gpt';
    this.element.dataset.state = 'streaming';
    this.meta.className = 'meta';
    this.element.append(this.body, this.meta);
    messages.append(this.element);
  }

  addPiece(piece: string): void {
    // the space a piece starts with stays outside its span, so the shade covers the letters only
    const [, space = '', letters = ''] = /^(\s*)([\s\S]*)$/.exec(piece)!;
    const span = document.createElement('span');
    span.className = 'piece';
    span.textContent = letters;
    this.body.append(space, span);
    this.shown += piece;
    this.element.dataset.text = this.shown;
    this.element.scrollIntoView({ block: 'nearest' });
  }

  finish(result: GenerationResult, check: AnswerCheck | undefined, summary: string | undefined): void {
    const spans = [...this.body.querySelectorAll<HTMLSpanElement>('.piece')];
    const marks = check ? pieceMarks(result.pieces, check) : [];
    spans.forEach((span, k) => {
      const p = result.probabilities[k];
      if (p !== undefined) {
        span.style.backgroundColor = `rgba(255, 193, 7, ${(1 - p) * 0.8})`;
        span.title = `p = ${p.toFixed(3)}`;
        span.dataset.p = p.toFixed(4);
      }
      const mark = marks[k];
      if (mark) span.classList.add(mark);
    });
    const speed = `first token ${result.timeToFirstTokenMs.toFixed(0)} ms · ${result.tokensPerSecond.toFixed(1)} tokens/s`;
    this.meta.textContent = [result.stopped ? 'stopped' : undefined, speed, summary].filter(Boolean).join(' · ');
    this.element.dataset.ids = JSON.stringify(result.ids);
    this.element.dataset.ttftMs = String(result.timeToFirstTokenMs);
    this.element.dataset.tokensPerSecond = String(result.tokensPerSecond);
    this.element.dataset.state = result.stopped ? 'stopped' : 'done';
  }

  fail(message: string): void {
    this.meta.textContent = message;
    this.element.dataset.state = 'error';
  }

}

export function showQuestion(messages: HTMLElement, text: string): void {
  const element = document.createElement('div');
  element.className = 'message human';
  element.textContent = `> ${text}`;
  messages.append(element);
}
