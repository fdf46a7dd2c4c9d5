import { useEffect, useState } from 'react';

export type Route = 'detect' | 'about';

export function routeFromHash(hash: string): Route {
  return hash.replace(/^#\/?/, '') === 'about' ? 'about' : 'detect';
}

/** In-page navigation on the URL hash: back/forward and links work, no router needed. */
export function useHashRoute(): Route {
  const [route, setRoute] = useState<Route>(() => routeFromHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeFromHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
