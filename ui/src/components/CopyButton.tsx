import { useState } from 'react';
import { copyText } from '../lib/clipboard';

export function CopyButton({ text, label = 'Copy', className = 'btn btn-small' }: { text: string | (() => Promise<string>); label?: string; className?: string }) {
  const [state, setState] = useState<'idle' | 'busy' | 'done' | 'failed'>('idle');
  const onClick = async () => {
    setState('busy');
    try {
      const value = typeof text === 'string' ? text : await text();
      await copyText(value);
      setState('done');
    } catch {
      setState('failed');
    }
    setTimeout(() => setState('idle'), 1500);
  };
  return (
    <button type="button" className={className} onClick={() => void onClick()} disabled={state === 'busy'}>
      {state === 'busy' ? 'Copying…' : state === 'done' ? 'Copied' : state === 'failed' ? 'Copy failed' : label}
    </button>
  );
}
