// Name lists for the demo store's synthetic customers (ASCII, so emails stay simple).

export const FIRST_NAMES: readonly string[] = [
  "Maya", "Liam", "Olivia", "Noah", "Emma", "Elijah", "Ava", "James", "Sophia", "Lucas",
  "Isabella", "Mateo", "Mia", "Ethan", "Amelia", "Aiden", "Harper", "Leo", "Evelyn", "Daniel",
  "Abigail", "Henry", "Emily", "Jackson", "Ella", "Sebastian", "Elizabeth", "Jack", "Camila", "Owen",
  "Luna", "Samuel", "Sofia", "Wyatt", "Avery", "Julian", "Mila", "Levi", "Aria", "Isaac",
  "Scarlett", "Gabriel", "Penelope", "Anthony", "Layla", "Dylan", "Chloe", "Grayson", "Victoria", "Thomas",
  "Madison", "Caleb", "Eleanor", "Ryan", "Grace", "Nathan", "Nora", "Aaron", "Riley", "Adrian",
  "Zoey", "Kai", "Hannah", "Ezra", "Hazel", "Jonah", "Lily", "Rowan", "Ellie", "Miles",
  "Priya", "Arjun", "Mei", "Hiroshi", "Amara", "Kwame", "Ines", "Tomas", "Freya", "Soren",
];

export const LAST_NAMES: readonly string[] = [
  "Okafor", "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
  "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
  "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis",
  "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill",
  "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
  "Roberts", "Patel", "Shah", "Kim", "Chen", "Tanaka", "Muller", "Schmidt", "Jansen", "de Vries",
  "Lindqvist", "Novak", "Kowalski", "Murphy", "Kelly", "O'Brien", "Byrne", "Fischer", "Rossi", "Bianchi",
  "Mensah", "Diallo", "Haddad", "Cohen", "Silva", "Costa", "Pereira", "Dubois", "Laurent", "Moreau",
];

export const EMAIL_DOMAINS: readonly string[] = ["example.com", "example.net", "example.org"];
