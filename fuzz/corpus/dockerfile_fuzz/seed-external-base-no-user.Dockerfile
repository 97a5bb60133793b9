# Denied (unknownUser) offline: no USER, so the user is nginx:1.25's, which only a registry
# lookup (--resolve-images) or a policy imageOverride can tell. (It is root: nginx has no USER.)
FROM nginx:1.25
COPY site/ /usr/share/nginx/html/
