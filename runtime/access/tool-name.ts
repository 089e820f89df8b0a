/**
 * The form in which tool names are compared by the access policy. A hostile client may call a
 * hidden tool by a variant of its name: `WRITE_FILE`, fullwidth `ｗｒｉｔｅ_file`, a zero-width
 * space inside, a trailing blank. A server that looks names up loosely (lowercasing, trimming,
 * normalising) would run the tool the policy meant to refuse, so the policy compares in the
 * loosest form any such lookup could use: NFKC (compatibility forms fold to their plain
 * letters), default-ignorable code points removed, lowercased, blanks trimmed. A name that
 * canonicalises to a denied one is denied, whatever the server would have made of it.
 */
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

export function canonicalName(name: string): string {
  // NFKC again after lowercasing: case mapping can leave a string that is not normalised.
  return name.normalize('NFKC').replace(IGNORABLE, '').toLowerCase().normalize('NFKC').trim();
}
